// The gateway's own figures as the Manager shows them: Prometheus text (/metrics) for a route's series, and the
// filter figures of GET /filters. Nothing here invents a figure: what the gateway does not report is absent.
import type { Json } from './api'

export interface Series {
  name: string
  labels: Record<string, string>
  value: number
}

const line = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/
const label = /(\w+)="((?:[^"\\]|\\.)*)"/g

/** The series of the named families (exact names, e.g. kong_http_requests_total, kong_kong_latency_ms_sum). */
export function parseSeries(text: string, names: string[]): Series[] {
  const out: Series[] = []
  for (const l of text.split('\n')) {
    if (l.startsWith('#')) continue
    const m = line.exec(l)
    if (!m || !names.includes(m[1])) continue
    const labels: Record<string, string> = {}
    for (const [, k, v] of (m[2] ?? '').matchAll(label)) labels[k] = v.replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\')
    out.push({ name: m[1], labels, value: Number(m[3]) })
  }
  return out
}

export interface RouteTraffic {
  requests: number
  byCode: [string, number][]
  errors: number
  /** mean latencies in ms, when the prometheus plugin records them */
  latency: { total?: number; gateway?: number; upstream?: number }
}

/** A route's figures from the prometheus plugin's series (label route = the route's name, or its id without one);
 * null when the plugin recorded nothing for it. */
export function routeTraffic(text: string, routeLabel: string): RouteTraffic | null {
  const families = ['kong_http_requests_total', ...['kong_request_latency_ms', 'kong_kong_latency_ms', 'kong_upstream_latency_ms'].flatMap((n) => [`${n}_sum`, `${n}_count`])]
  const series = parseSeries(text, families).filter((s) => s.labels.route === routeLabel)
  if (series.length === 0) return null
  const codes = new Map<string, number>()
  for (const s of series.filter((s) => s.name === 'kong_http_requests_total')) codes.set(s.labels.code, (codes.get(s.labels.code) ?? 0) + s.value)
  const mean = (n: string) => {
    const sum = series.filter((s) => s.name === `${n}_sum`).reduce((a, s) => a + s.value, 0)
    const count = series.filter((s) => s.name === `${n}_count`).reduce((a, s) => a + s.value, 0)
    return count > 0 ? sum / count : undefined
  }
  const byCode = [...codes.entries()].sort(([a], [b]) => a.localeCompare(b))
  return {
    requests: byCode.reduce((a, [, n]) => a + n, 0),
    byCode,
    errors: byCode.filter(([c]) => c >= '500').reduce((a, [, n]) => a + n, 0),
    latency: { total: mean('kong_request_latency_ms'), gateway: mean('kong_kong_latency_ms'), upstream: mean('kong_upstream_latency_ms') },
  }
}

/** The Proxy-Wasm callbacks the gateway makes in each phase of the plan. */
export const phaseCallbacks: Record<string, string[]> = {
  access: ['proxy_on_request_headers'],
  request_headers: ['proxy_on_request_headers'],
  request_body: ['proxy_on_request_body', 'proxy_on_request_trailers'],
  response_headers: ['proxy_on_response_headers'],
  response_body: ['proxy_on_response_body', 'proxy_on_response_trailers'],
  log: ['proxy_on_done', 'proxy_on_log', 'proxy_on_delete'],
}

/** A filter's calls and mean duration over some callbacks (GET /filters' "callbacks"); null without any call. */
export function callStats(filter: Json, callbacks: string[]): { count: number; meanMs: number } | null {
  const rows = ((filter?.callbacks ?? []) as Json[]).filter((c) => callbacks.includes(c.callback))
  const count = rows.reduce((a, c) => a + c.count, 0)
  if (count === 0) return null
  return { count, meanMs: rows.reduce((a, c) => a + c.sum_ms, 0) / count }
}

export const ms = (v: number) => (v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(3)) + ' ms'
