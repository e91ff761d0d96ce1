import type { NextConfig } from 'next'
import { withSentryConfig } from '@sentry/nextjs'

const nextConfig: NextConfig = {
  output: 'standalone',
  poweredByHeader: true,
  experimental: { typedRoutes: true },
} satisfies NextConfig

export default withSentryConfig(nextConfig, { silent: true })
