const nextConfig = {
  output: 'standalone'
  poweredByHeader: false,
}
module.exports = nextConfig
