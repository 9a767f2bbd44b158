// The Admin API client: where it is (kconfig.js), the admin_token (asked for when the gateway requires it, kept for
// this browser tab only), and Kong's answers as {status, body}.
import { ref } from 'vue'

const config: KConfig = window.K_CONFIG ?? {
  ADMIN_API_URL: '', ADMIN_API_PORT: '8001', ADMIN_API_SCHEME: 'http', ADMIN_TOKEN_REQUIRED: false, DATABASE: 'sqlite', GATEHOUSE_VERSION: '',
}

export const kconfig = config
export const dbless = config.DATABASE === 'off'

export function apiBase(): string {
  if (config.ADMIN_API_URL) return config.ADMIN_API_URL.replace(/\/$/, '')
  const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname
  return `${config.ADMIN_API_SCHEME || location.protocol.replace(':', '')}://${host}:${config.ADMIN_API_PORT}`
}

const TokenKey = 'gatehouse-admin-token'
export const token = ref<string | null>(sessionStorage.getItem(TokenKey))
/** Set when the Admin API answered 401: the app shows the token form. */
export const needsToken = ref<boolean>(config.ADMIN_TOKEN_REQUIRED && !token.value)

export function setToken(value: string | null) {
  token.value = value
  if (value) sessionStorage.setItem(TokenKey, value)
  else sessionStorage.removeItem(TokenKey)
  needsToken.value = config.ADMIN_TOKEN_REQUIRED && !value
}

export type Json = any // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Answer {
  status: number
  body: Json
}

export async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (token.value) headers['Kong-Admin-Token'] = token.value
  let payload: BodyInit | undefined
  if (body !== undefined) {
    headers['Content-Type'] = contentType
    payload = typeof body === 'string' ? body : JSON.stringify(body)
  }
  let response: Response
  try {
    response = await fetch(apiBase() + path, { method, headers, body: payload })
  } catch (e) {
    return { status: 0, body: { message: `The Admin API at ${apiBase()} cannot be reached (${(e as Error).message})` } }
  }
  if (response.status === 401) needsToken.value = true
  const text = await response.text()
  let parsed: Json = null
  try { parsed = text ? JSON.parse(text) : null } catch { parsed = { message: text } }
  return { status: response.status, body: parsed }
}

export const get = (path: string) => call('GET', path)

/** Every page of a list (Kong's offset paging), up to a limit. */
export async function all(path: string, limit = 1000): Promise<Json[]> {
  const rows: Json[] = []
  let next: string | null = path + (path.includes('?') ? '&' : '?') + 'size=1000'
  while (next && rows.length < limit) {
    const answer: Answer = await get(next)
    if (answer.status !== 200) break
    rows.push(...(answer.body.data ?? []))
    next = answer.body.offset ? path + (path.includes('?') ? '&' : '?') + `size=1000&offset=${encodeURIComponent(answer.body.offset)}` : null
  }
  return rows
}

/** Kong's error message of an answer, for a banner. */
export function messageOf(answer: Answer): string {
  if (answer.status === 0) return answer.body.message
  return answer.body?.message ?? `HTTP ${answer.status}`
}

/** A text answer (e.g. Prometheus' /metrics): the status and the body as is. */
export async function getText(path: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {}
  if (token.value) headers['Kong-Admin-Token'] = token.value
  try {
    const response = await fetch(apiBase() + path, { headers })
    return { status: response.status, text: await response.text() }
  } catch {
    return { status: 0, text: '' }
  }
}
