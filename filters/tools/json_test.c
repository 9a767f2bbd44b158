/* Native unit check for sdk/json.h (run by build.sh when a host C compiler is available). */
#include <stdio.h>

#include "../sdk/json.h"

static int failures;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "json_test: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                     \
    }                                                                 \
  } while (0)

static json_value *parse(const char *s) { return json_parse(s, strlen(s), NULL); }

static bool rejects(const char *s) {
  const char *err = NULL;
  json_value *v = json_parse(s, strlen(s), &err);
  bool rejected = v == NULL && err != NULL;
  json_free(v);
  return rejected;
}

int main(void) {
  json_value *v = parse(" {\"a\": [1, -2.5e2, true, false, null, \"x\"], \"b\": {\"c\": \"d\"}, \"a\": 0} ");
  CHECK(v && v->type == JSON_OBJECT && v->count == 3);
  const json_value *a = json_get(v, "a");
  CHECK(json_is(a, JSON_ARRAY) && a->count == 6);
  CHECK(a->items[0]->number == 1 && a->items[1]->number == -250);
  CHECK(a->items[2]->boolean && !a->items[3]->boolean && a->items[4]->type == JSON_NULL);
  CHECK(strcmp(json_get_string(json_get(v, "b"), "c", ""), "d") == 0);
  CHECK(json_get_number(v, "missing", 7) == 7 && json_get_bool(v, "b", true));
  json_free(v);

  v = parse("\"q\\\"\\\\\\/\\b\\f\\n\\r\\t \\u00e9 \\u20ac \\ud83d\\ude00 \\u0000z\"");
  CHECK(v && v->type == JSON_STRING);
  CHECK(v && v->string_len == 24 && memcmp(v->string, "q\"\\/\b\f\n\r\t \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \0z", 24) == 0);
  json_free(v);

  v = parse("[0.5, 12345678, 1E3, 0, -0]");
  CHECK(v && v->items[0]->number == 0.5 && v->items[1]->number == 12345678 && v->items[2]->number == 1000);
  json_free(v);

  v = parse("{}");
  CHECK(v && v->type == JSON_OBJECT && v->count == 0);
  json_free(v);

  const char *bad[] = {"", " ", "{", "[1,]", "{\"a\"}", "{\"a\":1,}", "01", "1.", "-", "tru", "nul",
                       "\"abc", "\"\\x\"", "\"\\ud83d\"", "\"\\ude00\"", "[1] 2", "{'a':1}", "\"a\nb\""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    if (!rejects(bad[i])) {
      fprintf(stderr, "json_test: accepted invalid input '%s'\n", bad[i]);
      failures++;
    }
  }
  char deep[200];
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  CHECK(json_parse(deep, 200, NULL) == NULL); /* deeper than JSON_MAX_DEPTH */

  CHECK(json_number_word(-1) == 0xFFFFFFFFu && json_number_word(4294967295.0) == 0xFFFFFFFFu);
  CHECK(json_number_word(1e300) == 0xFFFFFFFFu && json_number_word(-1e300) == 0x80000000u);
  CHECK(json_number_word(200.9) == 200 && json_number_word(0.0 / 0.0) == 0);

  if (failures) return 1;
  printf("json_test: ok\n");
  return 0;
}
