export const db = null
