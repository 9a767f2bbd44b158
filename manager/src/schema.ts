// Kong's entity schemas (/schemas/{entity}, /schemas/plugins/{name}) as the forms use them.
import type { Json } from './api'

export interface FieldDef {
  type: string
  required?: boolean
  default?: Json
  one_of?: Json[]
  elements?: FieldDef
  fields?: Record<string, FieldDef>[]
  reference?: string
  auto?: boolean
  between?: [number, number]
  len_min?: number
  starts_with?: string
  description?: string
}

export type Fields = [string, FieldDef][]

export const entries = (fields: Record<string, FieldDef>[] | undefined): Fields =>
  (fields ?? []).map((f) => Object.entries(f)[0] as [string, FieldDef])

/** A new entity's values: each field's default (records recursively). */
export function defaults(fields: Fields): Record<string, Json> {
  const value: Record<string, Json> = {}
  for (const [name, def] of fields) {
    if (def.auto) continue
    if (def.type === 'record') value[name] = defaults(entries(def.fields))
    else if (def.default !== undefined) value[name] = JSON.parse(JSON.stringify(def.default))
    else value[name] = null
  }
  return value
}

const empty = (v: Json) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)

/** What is sent: auto fields left out; on create, empty optional values are left out (the schema's default applies);
 * on update, a cleared value is sent as null. */
export function payload(fields: Fields, value: Record<string, Json>, create: boolean): Record<string, Json> {
  const out: Record<string, Json> = {}
  for (const [name, def] of fields) {
    if (def.auto) continue
    const v = value?.[name]
    if (def.type === 'record' && v && typeof v === 'object' && !Array.isArray(v)) {
      const nested = payload(entries(def.fields), v, create)
      if (!create || Object.keys(nested).length > 0) out[name] = nested
      continue
    }
    if (empty(v)) {
      if (!create) out[name] = def.type === 'array' || def.type === 'set' ? (def.required ? [] : null) : null
      continue
    }
    out[name] = v
  }
  return out
}

/** Does an error object (Kong's "fields") hold anything for these field names? */
export function hasErrorIn(errors: Json, names: string[]): boolean {
  return !!errors && typeof errors === 'object' && names.some((n) => errors[n] !== undefined && errors[n] !== null)
}
