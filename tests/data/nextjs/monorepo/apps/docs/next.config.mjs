import { PHASE_DEVELOPMENT_SERVER } from 'next/constants.js'

export default (phase) => ({
  poweredByHeader: phase === PHASE_DEVELOPMENT_SERVER,
})
