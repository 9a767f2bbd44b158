/*
 * pw_types.h - plain data helpers used by the SDK and filters, with no host calls: owned byte
 * strings (pw_bytes), a string builder (pw_str), serialized header maps (pw_pairs, pw_pairs_iter)
 * and a per-context table (pw_ctx_map). Included by proxy_wasm.h.
 */
#ifndef GATEHOUSE_PW_TYPES_H
#define GATEHOUSE_PW_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Owned byte strings (what the host returns). data is malloc'ed (or NULL when len == 0).
 * ------------------------------------------------------------------------------------------- */
typedef struct {
  char *data;
  size_t len;
} pw_bytes;

static inline void pw_bytes_free(pw_bytes *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
}

/* Returns a NUL-terminated malloc'ed copy (never NULL unless out of memory). */
static inline char *pw_bytes_cstr(const pw_bytes *b) {
  char *s = (char *)malloc(b->len + 1);
  if (s == NULL) return NULL;
  if (b->len) memcpy(s, b->data, b->len);
  s[b->len] = 0;
  return s;
}

static inline bool pw_bytes_eq(const pw_bytes *b, const char *s) {
  size_t n = strlen(s);
  return b->len == n && (n == 0 || memcmp(b->data, s, n) == 0);
}

/* ---------------------------------------------------------------------------------------------
 * A growable string builder (no stdio needed, so filters import nothing from WASI).
 * ------------------------------------------------------------------------------------------- */
typedef struct {
  char *data;
  size_t len;
  size_t cap;
} pw_str;

static inline void pw_str_free(pw_str *s) {
  free(s->data);
  s->data = NULL;
  s->len = s->cap = 0;
}

static inline void pw_str_reserve(pw_str *s, size_t extra) {
  if (s->len + extra + 1 <= s->cap) return;
  size_t cap = s->cap ? s->cap : 64;
  while (cap < s->len + extra + 1) cap *= 2;
  char *p = (char *)realloc(s->data, cap);
  if (p == NULL) __builtin_trap();
  s->data = p;
  s->cap = cap;
}

static inline pw_str *pw_str_addn(pw_str *s, const char *p, size_t n) {
  pw_str_reserve(s, n);
  if (n) memcpy(s->data + s->len, p, n);
  s->len += n;
  s->data[s->len] = 0;
  return s;
}

static inline pw_str *pw_str_add(pw_str *s, const char *cstr) {
  return pw_str_addn(s, cstr, strlen(cstr));
}

static inline pw_str *pw_str_addc(pw_str *s, char c) { return pw_str_addn(s, &c, 1); }

static inline pw_str *pw_str_add_u64(pw_str *s, uint64_t v) {
  char tmp[24];
  size_t i = sizeof tmp;
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return pw_str_addn(s, tmp + i, sizeof tmp - i);
}

static inline pw_str *pw_str_add_i64(pw_str *s, int64_t v) {
  if (v < 0) {
    pw_str_addc(s, '-');
    return pw_str_add_u64(s, (uint64_t)0 - (uint64_t)v);
  }
  return pw_str_add_u64(s, (uint64_t)v);
}

static inline pw_str *pw_str_add_hex(pw_str *s, const void *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  const unsigned char *b = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++) {
    pw_str_addc(s, digits[b[i] >> 4]);
    pw_str_addc(s, digits[b[i] & 15]);
  }
  return s;
}

/* Returns the current contents as a C string ("" when empty). */
static inline const char *pw_str_cstr(const pw_str *s) { return s->data ? s->data : ""; }

/* Parses an unsigned decimal; returns false on empty input or a non-digit. */
static inline bool pw_parse_u64(const char *p, size_t n, uint64_t *out) {
  uint64_t v = 0;
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + (uint64_t)(p[i] - '0');
  }
  *out = v;
  return true;
}

/*
 * Serialized maps ("pairs"): u32 N, N x {u32 key_len, u32 value_len}, N x {key\0 value\0}.
 * pw_pairs collects entries and serializes them; pw_pairs_next iterates a serialized map.
 */
typedef struct {
  const char *key;
  size_t key_len;
  const char *value;
  size_t value_len;
} pw_pair;

typedef struct {
  pw_pair *items;
  size_t count;
  size_t cap;
} pw_pairs;

static inline void pw_pairs_add_n(pw_pairs *p, const char *k, size_t kl, const char *v, size_t vl) {
  if (p->count == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    pw_pair *items = (pw_pair *)realloc(p->items, cap * sizeof(pw_pair));
    if (items == NULL) __builtin_trap();
    p->items = items;
    p->cap = cap;
  }
  pw_pair *e = &p->items[p->count++];
  e->key = k;
  e->key_len = kl;
  e->value = v;
  e->value_len = vl;
}

/* Keys and values are borrowed: they must outlive the pw_pairs. */
static inline void pw_pairs_add(pw_pairs *p, const char *k, const char *v) {
  pw_pairs_add_n(p, k, strlen(k), v, strlen(v));
}

static inline void pw_pairs_free(pw_pairs *p) {
  free(p->items);
  p->items = NULL;
  p->count = p->cap = 0;
}

static inline void pw_put_u32(char *dst, uint32_t v) {
  dst[0] = (char)(v & 0xff);
  dst[1] = (char)((v >> 8) & 0xff);
  dst[2] = (char)((v >> 16) & 0xff);
  dst[3] = (char)((v >> 24) & 0xff);
}

static inline uint32_t pw_get_u32(const char *src) {
  const unsigned char *s = (const unsigned char *)src;
  return (uint32_t)s[0] | ((uint32_t)s[1] << 8) | ((uint32_t)s[2] << 16) | ((uint32_t)s[3] << 24);
}

/* Serializes into a malloc'ed buffer; an empty map serializes to len 0 (data NULL). */
static inline pw_bytes pw_pairs_serialize(const pw_pairs *p) {
  pw_bytes out = {NULL, 0};
  if (p->count == 0) return out;
  size_t size = 4;
  for (size_t i = 0; i < p->count; i++) size += 8 + p->items[i].key_len + 1 + p->items[i].value_len + 1;
  char *buf = (char *)malloc(size);
  if (buf == NULL) __builtin_trap();
  pw_put_u32(buf, (uint32_t)p->count);
  char *lens = buf + 4;
  char *data = buf + 4 + 8 * p->count;
  for (size_t i = 0; i < p->count; i++) {
    const pw_pair *e = &p->items[i];
    pw_put_u32(lens + 8 * i, (uint32_t)e->key_len);
    pw_put_u32(lens + 8 * i + 4, (uint32_t)e->value_len);
    memcpy(data, e->key, e->key_len);
    data += e->key_len;
    *data++ = 0;
    memcpy(data, e->value, e->value_len);
    data += e->value_len;
    *data++ = 0;
  }
  out.data = buf;
  out.len = size;
  return out;
}

/* Iterator over a serialized map: it = pw_pairs_iter_init(buf, len); while (pw_pairs_next(&it, &p))
 * ... Stops at the end or on malformed input. */
typedef struct {
  const char *buf;
  size_t len;
  uint32_t count;
  uint32_t index;
  size_t data_off;
} pw_pairs_iter;

static inline pw_pairs_iter pw_pairs_iter_init(const char *buf, size_t len) {
  pw_pairs_iter it = {buf, len, 0, 0, 0};
  if (len >= 4) {
    it.count = pw_get_u32(buf);
    if ((size_t)it.count > (len - 4) / 8) it.count = 0;
    it.data_off = 4 + 8 * (size_t)it.count;
  }
  return it;
}

static inline bool pw_pairs_next(pw_pairs_iter *it, pw_pair *out) {
  if (it->index >= it->count) return false;
  const char *lens = it->buf + 4 + 8 * (size_t)it->index;
  size_t kl = pw_get_u32(lens), vl = pw_get_u32(lens + 4);
  if (it->data_off + kl + 1 + vl + 1 > it->len) return false;
  out->key = it->buf + it->data_off;
  out->key_len = kl;
  out->value = out->key + kl + 1;
  out->value_len = vl;
  it->data_off += kl + 1 + vl + 1;
  it->index++;
  return true;
}

/* Owned variant: copies key and value (free with pw_pairs_free_owned). */
static inline void pw_pairs_add_copy(pw_pairs *p, const char *k, size_t kl, const char *v, size_t vl) {
  char *kc = (char *)malloc(kl + 1), *vc = (char *)malloc(vl + 1);
  if (kc == NULL || vc == NULL) __builtin_trap();
  if (kl) memcpy(kc, k, kl);
  if (vl) memcpy(vc, v, vl);
  kc[kl] = 0;
  vc[vl] = 0;
  pw_pairs_add_n(p, kc, kl, vc, vl);
}

static inline void pw_pairs_free_owned(pw_pairs *p) {
  for (size_t i = 0; i < p->count; i++) {
    free((void *)p->items[i].key);
    free((void *)p->items[i].value);
  }
  pw_pairs_free(p);
}

/* ---------------------------------------------------------------------------------------------
 * Per-context state: a small id -> pointer table (linear scan; a VM has few live contexts).
 * ------------------------------------------------------------------------------------------- */
typedef struct {
  uint32_t id;
  void *data;
} pw_ctx_entry;

typedef struct {
  pw_ctx_entry *items;
  size_t count;
  size_t cap;
} pw_ctx_map;

static inline void *pw_ctx_get(const pw_ctx_map *m, uint32_t id) {
  for (size_t i = 0; i < m->count; i++)
    if (m->items[i].id == id) return m->items[i].data;
  return NULL;
}

static inline void pw_ctx_put(pw_ctx_map *m, uint32_t id, void *data) {
  for (size_t i = 0; i < m->count; i++)
    if (m->items[i].id == id) {
      m->items[i].data = data;
      return;
    }
  if (m->count == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    pw_ctx_entry *items = (pw_ctx_entry *)realloc(m->items, cap * sizeof(pw_ctx_entry));
    if (items == NULL) __builtin_trap();
    m->items = items;
    m->cap = cap;
  }
  m->items[m->count].id = id;
  m->items[m->count].data = data;
  m->count++;
}

/* Removes the entry and returns its data (NULL if absent); the caller frees it. */
static inline void *pw_ctx_take(pw_ctx_map *m, uint32_t id) {
  for (size_t i = 0; i < m->count; i++)
    if (m->items[i].id == id) {
      void *d = m->items[i].data;
      m->items[i] = m->items[--m->count];
      return d;
    }
  return NULL;
}

#endif /* GATEHOUSE_PW_TYPES_H */
