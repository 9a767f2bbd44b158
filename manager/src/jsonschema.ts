// The subset of JSON Schema that filters' meta.json config_schema documents use, for forms that check as you type.
// The gateway's own check (the full schema, then the filter's proxy_on_configure) is what decides, on save.
import type { Json } from './api'

export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  enum?: Json[]
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  description?: string
}

const typeOf = (v: Json): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v

function typeMatches(expected: string | string[] | undefined, v: Json): boolean {
  if (!expected) return true
  const list = Array.isArray(expected) ? expected : [expected]
  const actual = typeOf(v)
  return list.some((t) => t === actual || (t === 'number' && actual === 'integer'))
}

/** Errors by JSON path ("" for the value itself, "header", "response.add"). */
export function validate(schema: JsonSchema | null | undefined, value: Json, path = '', out: Record<string, string> = {}): Record<string, string> {
  if (!schema) return out
  if (value === undefined) return out
  if (!typeMatches(schema.type, value)) { out[path] = `expected ${Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type}`; return out }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) out[path] = `expected one of ${schema.enum.join(', ')}`
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) out[path] = `at least ${schema.minLength} character(s)`
    if (schema.maxLength !== undefined && value.length > schema.maxLength) out[path] = `at most ${schema.maxLength} character(s)`
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) out[path] = `at least ${schema.minimum}`
    if (schema.maximum !== undefined && value > schema.maximum) out[path] = `at most ${schema.maximum}`
  }
  if (typeOf(value) === 'object') {
    for (const name of schema.required ?? []) if (value[name] === undefined) out[join(path, name)] = 'required'
    for (const [name, v] of Object.entries(value)) {
      const sub = schema.properties?.[name]
      if (sub) validate(sub, v, join(path, name), out)
      else if (schema.additionalProperties === false) out[join(path, name)] = 'not a property of this configuration'
      else if (typeof schema.additionalProperties === 'object') validate(schema.additionalProperties, v, join(path, name), out)
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => validate(schema.items, v, join(path, String(i)), out))
  return out
}

const join = (path: string, name: string) => (path ? `${path}.${name}` : name)

/** Can this schema be shown as form fields (an object of plain properties), rather than JSON text? */
export function formable(schema: JsonSchema | null | undefined): boolean {
  return !!schema && schema.type === 'object' && !!schema.properties && Object.keys(schema.properties).length > 0
}
