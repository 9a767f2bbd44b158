// The entity pages: one list/detail/form per Kong entity, driven by the Admin API's /schemas/{entity}.
export interface Column {
  key: string
  label: string
}

export interface EntityKind {
  /** Admin API collection, also the page path: services, routes, … */
  path: string
  /** /schemas/{schema} */
  schema: string
  title: string
  singular: string
  columns: Column[]
  /** the field shown as the entity's name */
  nameField: string
}

const c = (key: string, label = key): Column => ({ key, label })

export const kinds: EntityKind[] = [
  { path: 'services', schema: 'services', title: 'Services', singular: 'service', nameField: 'name',
    columns: [c('name'), c('protocol'), c('host'), c('port'), c('path'), c('enabled'), c('tags')] },
  { path: 'routes', schema: 'routes', title: 'Routes', singular: 'route', nameField: 'name',
    columns: [c('name'), c('paths'), c('hosts'), c('methods'), c('service'), c('tags')] },
  { path: 'consumers', schema: 'consumers', title: 'Consumers', singular: 'consumer', nameField: 'username',
    columns: [c('username'), c('custom_id'), c('tags')] },
  { path: 'plugins', schema: 'plugins', title: 'Plugins', singular: 'plugin', nameField: 'name',
    columns: [c('name'), c('enabled'), c('service'), c('route'), c('consumer'), c('tags')] },
  { path: 'filter-chains', schema: 'filter_chains', title: 'Filter chains', singular: 'filter chain', nameField: 'name',
    columns: [c('name'), c('enabled'), c('filters'), c('route'), c('service'), c('tags')] },
  { path: 'upstreams', schema: 'upstreams', title: 'Upstreams', singular: 'upstream', nameField: 'name',
    columns: [c('name'), c('algorithm'), c('slots'), c('tags')] },
  { path: 'certificates', schema: 'certificates', title: 'Certificates', singular: 'certificate', nameField: 'id',
    columns: [c('id'), c('snis'), c('tags')] },
  { path: 'snis', schema: 'snis', title: 'SNIs', singular: 'SNI', nameField: 'name',
    columns: [c('name'), c('certificate'), c('tags')] },
  { path: 'ca_certificates', schema: 'ca_certificates', title: 'CA certificates', singular: 'CA certificate', nameField: 'id',
    columns: [c('id'), c('cert_digest'), c('tags')] },
  { path: 'keys', schema: 'keys', title: 'Keys', singular: 'key', nameField: 'name',
    columns: [c('name'), c('kid'), c('set'), c('tags')] },
  { path: 'key-sets', schema: 'key_sets', title: 'Key sets', singular: 'key set', nameField: 'name',
    columns: [c('name'), c('tags')] },
  { path: 'vaults', schema: 'vaults', title: 'Vaults', singular: 'vault', nameField: 'prefix',
    columns: [c('prefix'), c('name'), c('description'), c('tags')] },
]

/** The Admin API collection of a schema name (a foreign key's reference): filter_chains → filter-chains, … */
export const collectionOf = (schema: string): string => kinds.find((k) => k.schema === schema)?.path ?? schema

export function kindOf(path: string): EntityKind {
  const kind = kinds.find((k) => k.path === path)
  if (!kind) throw new Error(`unknown entity ${path}`)
  return kind
}

/** A cell's text: foreign keys as their id, arrays joined. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v ? (v as { name?: string }).name ?? JSON.stringify(v) : String(v))).join(', ')
  if (typeof value === 'object') {
    const o = value as { id?: string; name?: string }
    return o.name ?? o.id ?? JSON.stringify(value)
  }
  return String(value)
}

export const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)
