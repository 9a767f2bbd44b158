/*
 * json.h - a tiny header-only JSON parser for filter configuration.
 *
 * Parses UTF-8 JSON (RFC 8259: objects, arrays, strings with all escapes incl. \uXXXX surrogate
 * pairs, numbers, true/false/null) into a malloc'ed tree. Strings are decoded and NUL-terminated.
 * Nesting is limited to JSON_MAX_DEPTH. Duplicate object keys are kept; lookups return the first.
 *
 *     json_value *cfg = json_parse(text, len, &err);   // NULL on error, err = static message
 *     const char *name = json_get_string(cfg, "name", "default");
 *     json_free(cfg);
 */
#ifndef GATEHOUSE_JSON_H
#define GATEHOUSE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef JSON_MAX_DEPTH
#define JSON_MAX_DEPTH 64
#endif

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
  json_type type;
  bool boolean;
  double number;
  char *string; /* JSON_STRING: decoded, NUL-terminated (may contain NULs; see string_len) */
  size_t string_len;
  size_t count;        /* JSON_ARRAY / JSON_OBJECT */
  json_value **items;  /* values */
  json_value **keys;   /* JSON_OBJECT: keys (JSON_STRING values), parallel to items */
};

typedef struct {
  const char *p;
  const char *end;
  const char *err;
  int depth;
} json_parser_;

static inline void json_free(json_value *v) {
  if (v == NULL) return;
  for (size_t i = 0; i < v->count; i++) {
    json_free(v->items[i]);
    if (v->keys) json_free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->string);
  free(v);
}

static inline json_value *json_new_(json_type t) {
  json_value *v = (json_value *)calloc(1, sizeof(json_value));
  if (v) v->type = t;
  return v;
}

static inline void json_ws_(json_parser_ *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static inline json_value *json_fail_(json_parser_ *ps, json_value *v, const char *msg) {
  if (ps->err == NULL) ps->err = msg;
  json_free(v);
  return NULL;
}

static inline bool json_append_(json_value *c, json_value *key, json_value *item) {
  if ((c->count & (c->count - 1)) == 0) { /* grow at powers of two */
    size_t cap = c->count ? c->count * 2 : 4;
    json_value **items = (json_value **)realloc(c->items, cap * sizeof(json_value *));
    if (items == NULL) return false;
    c->items = items;
    if (c->type == JSON_OBJECT) {
      json_value **keys = (json_value **)realloc(c->keys, cap * sizeof(json_value *));
      if (keys == NULL) return false;
      c->keys = keys;
    }
  }
  if (c->type == JSON_OBJECT) c->keys[c->count] = key;
  c->items[c->count++] = item;
  return true;
}

static inline int json_hex_(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static inline bool json_hex4_(json_parser_ *ps, uint32_t *out) {
  if (ps->end - ps->p < 4) return false;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = json_hex_(ps->p[i]);
    if (h < 0) return false;
    v = (v << 4) | (uint32_t)h;
  }
  ps->p += 4;
  *out = v;
  return true;
}

static inline size_t json_utf8_(uint32_t cp, char *out) {
  if (cp < 0x80) { out[0] = (char)cp; return 1; }
  if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static inline json_value *json_string_(json_parser_ *ps) {
  json_value *v = json_new_(JSON_STRING);
  if (v == NULL) return json_fail_(ps, NULL, "out of memory");
  ps->p++; /* opening quote */
  /* decoded output is never longer than the input */
  const char *scan = ps->p;
  while (scan < ps->end && *scan != '"') scan += (*scan == '\\') ? 2 : 1;
  if (scan >= ps->end) return json_fail_(ps, v, "unterminated string");
  char *out = (char *)malloc((size_t)(scan - ps->p) + 1);
  if (out == NULL) return json_fail_(ps, v, "out of memory");
  v->string = out;
  size_t n = 0;
  while (ps->p < ps->end && *ps->p != '"') {
    unsigned char c = (unsigned char)*ps->p++;
    if (c < 0x20) return json_fail_(ps, v, "control character in string");
    if (c != '\\') { out[n++] = (char)c; continue; }
    if (ps->p >= ps->end) return json_fail_(ps, v, "bad escape");
    char e = *ps->p++;
    switch (e) {
      case '"': out[n++] = '"'; break;
      case '\\': out[n++] = '\\'; break;
      case '/': out[n++] = '/'; break;
      case 'b': out[n++] = '\b'; break;
      case 'f': out[n++] = '\f'; break;
      case 'n': out[n++] = '\n'; break;
      case 'r': out[n++] = '\r'; break;
      case 't': out[n++] = '\t'; break;
      case 'u': {
        uint32_t cp;
        if (!json_hex4_(ps, &cp)) return json_fail_(ps, v, "bad \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
            return json_fail_(ps, v, "lone surrogate");
          ps->p += 2;
          if (!json_hex4_(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return json_fail_(ps, v, "lone surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return json_fail_(ps, v, "lone surrogate");
        }
        n += json_utf8_(cp, out + n); /* \uXXXX is 6 input bytes, at most 4 output bytes */
        break;
      }
      default: return json_fail_(ps, v, "bad escape");
    }
  }
  ps->p++; /* closing quote */
  out[n] = 0;
  v->string_len = n;
  return v;
}

static inline json_value *json_number_(json_parser_ *ps) {
  const char *p = ps->p;
  double sign = 1, value = 0;
  if (p < ps->end && *p == '-') { sign = -1; p++; }
  if (p >= ps->end || *p < '0' || *p > '9') return json_fail_(ps, NULL, "bad number");
  if (*p == '0') p++;
  else while (p < ps->end && *p >= '0' && *p <= '9') value = value * 10 + (*p++ - '0');
  if (p < ps->end && *p == '.') {
    p++;
    if (p >= ps->end || *p < '0' || *p > '9') return json_fail_(ps, NULL, "bad number");
    double scale = 0.1;
    while (p < ps->end && *p >= '0' && *p <= '9') { value += (*p++ - '0') * scale; scale /= 10; }
  }
  if (p < ps->end && (*p == 'e' || *p == 'E')) {
    p++;
    int esign = 1, exp = 0;
    if (p < ps->end && (*p == '+' || *p == '-')) esign = (*p++ == '-') ? -1 : 1;
    if (p >= ps->end || *p < '0' || *p > '9') return json_fail_(ps, NULL, "bad number");
    while (p < ps->end && *p >= '0' && *p <= '9') { if (exp < 400) exp = exp * 10 + (*p - '0'); p++; }
    while (exp-- > 0) value = esign > 0 ? value * 10 : value / 10;
  }
  json_value *v = json_new_(JSON_NUMBER);
  if (v == NULL) return json_fail_(ps, NULL, "out of memory");
  v->number = sign * value;
  ps->p = p;
  return v;
}

static inline bool json_literal_(json_parser_ *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return false;
  ps->p += n;
  return true;
}

static inline json_value *json_value_(json_parser_ *ps);

static inline json_value *json_container_(json_parser_ *ps, bool object) {
  if (++ps->depth > JSON_MAX_DEPTH) return json_fail_(ps, NULL, "nesting too deep");
  json_value *c = json_new_(object ? JSON_OBJECT : JSON_ARRAY);
  if (c == NULL) return json_fail_(ps, NULL, "out of memory");
  char close = object ? '}' : ']';
  ps->p++;
  json_ws_(ps);
  if (ps->p < ps->end && *ps->p == close) { ps->p++; ps->depth--; return c; }
  for (;;) {
    json_value *key = NULL;
    if (object) {
      json_ws_(ps);
      if (ps->p >= ps->end || *ps->p != '"') return json_fail_(ps, c, "expected object key");
      key = json_string_(ps);
      if (key == NULL) return json_fail_(ps, c, "bad key");
      json_ws_(ps);
      if (ps->p >= ps->end || *ps->p != ':') { json_free(key); return json_fail_(ps, c, "expected ':'"); }
      ps->p++;
    }
    json_value *item = json_value_(ps);
    if (item == NULL) { json_free(key); return json_fail_(ps, c, "bad value"); }
    if (!json_append_(c, key, item)) {
      json_free(key);
      json_free(item);
      return json_fail_(ps, c, "out of memory");
    }
    json_ws_(ps);
    if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
    if (ps->p < ps->end && *ps->p == close) { ps->p++; ps->depth--; return c; }
    return json_fail_(ps, c, object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static inline json_value *json_value_(json_parser_ *ps) {
  json_ws_(ps);
  if (ps->p >= ps->end) return json_fail_(ps, NULL, "unexpected end of input");
  switch (*ps->p) {
    case '{': return json_container_(ps, true);
    case '[': return json_container_(ps, false);
    case '"': return json_string_(ps);
    case 't':
    case 'f': {
      bool b = *ps->p == 't';
      if (!json_literal_(ps, b ? "true" : "false")) return json_fail_(ps, NULL, "bad literal");
      json_value *v = json_new_(JSON_BOOL);
      if (v == NULL) return json_fail_(ps, NULL, "out of memory");
      v->boolean = b;
      return v;
    }
    case 'n':
      if (!json_literal_(ps, "null")) return json_fail_(ps, NULL, "bad literal");
      return json_new_(JSON_NULL);
    default: return json_number_(ps);
  }
}

/* Parses a complete document; returns NULL and sets *err (if err != NULL) on failure. */
static inline json_value *json_parse(const char *text, size_t len, const char **err) {
  json_parser_ ps = {text, text + len, NULL, 0};
  json_value *v = text ? json_value_(&ps) : NULL;
  if (v != NULL) {
    json_ws_(&ps);
    if (ps.p != ps.end) v = json_fail_(&ps, v, "trailing characters");
  } else if (ps.err == NULL) {
    ps.err = "empty input";
  }
  if (err) *err = ps.err;
  return v;
}

/* ---- lookups (all accept NULL and wrong types, returning the default) ---- */

static inline const json_value *json_get(const json_value *obj, const char *key) {
  if (obj == NULL || obj->type != JSON_OBJECT) return NULL;
  size_t n = strlen(key);
  for (size_t i = 0; i < obj->count; i++)
    if (obj->keys[i]->string_len == n && memcmp(obj->keys[i]->string, key, n) == 0) return obj->items[i];
  return NULL;
}

static inline const char *json_string_or(const json_value *v, const char *def) {
  return (v && v->type == JSON_STRING) ? v->string : def;
}
static inline const char *json_get_string(const json_value *obj, const char *key, const char *def) {
  return json_string_or(json_get(obj, key), def);
}
static inline double json_get_number(const json_value *obj, const char *key, double def) {
  const json_value *v = json_get(obj, key);
  return (v && v->type == JSON_NUMBER) ? v->number : def;
}
static inline bool json_get_bool(const json_value *obj, const char *key, bool def) {
  const json_value *v = json_get(obj, key);
  return (v && v->type == JSON_BOOL) ? v->boolean : def;
}
/* Converts a number to a 32-bit word without undefined behaviour (a plain C cast of an
 * out-of-range double may trap in wasm): the value is truncated toward zero and clamped to
 * [-2^31, 2^32-1]; negative values wrap (-1 -> 0xFFFFFFFF), so both int32_t and uint32_t callers
 * get the intuitive result. NaN -> 0. */
static inline uint32_t json_number_word(double d) {
  if (!(d == d)) return 0;
  if (d < -2147483648.0) d = -2147483648.0;
  if (d > 4294967295.0) d = 4294967295.0;
  return (uint32_t)(int64_t)d;
}
static inline uint32_t json_get_u32(const json_value *obj, const char *key, uint32_t def) {
  const json_value *v = json_get(obj, key);
  return (v && v->type == JSON_NUMBER) ? json_number_word(v->number) : def;
}
static inline bool json_is(const json_value *v, json_type t) { return v != NULL && v->type == t; }

#endif /* GATEHOUSE_JSON_H */
