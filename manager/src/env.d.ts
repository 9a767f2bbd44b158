declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

interface KConfig {
  ADMIN_API_URL: string
  ADMIN_API_PORT: string
  ADMIN_API_SCHEME: string
  ADMIN_TOKEN_REQUIRED: boolean
  DATABASE: string
  GATEHOUSE_VERSION: string
}

interface Window {
  K_CONFIG?: KConfig
}
