/* SPDX-License-Identifier: Apache-2.0 */
/* The C API from a C11 program: versions, errors, option structs, ownership, an embedded agent. */
#include <constellation.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static void test_version(void) {
  CHECK(cst_version_number() == CST_VERSION_NUMBER);
  CHECK(strcmp(cst_version(), CST_VERSION_STRING) == 0);
}

static void test_json(void) {
  char* out = NULL;
  size_t len = 0;
  const char* in = "{\"b\": [1, 2.5, \"\\u00e9\\n\"], \"a\": null}";
  CHECK(cst_json_canonicalize(&out, &len, in, strlen(in), NULL) == CST_OK);
  CHECK(out != NULL && strcmp(out, "{\"a\":null,\"b\":[1,2.5,\"\xc3\xa9\\n\"]}") == 0);
  CHECK(len == strlen(out));
  cst_free(out);

  cst_json_options opts = CST_JSON_OPTIONS_INIT;
  opts.ascii_only = 1;
  opts.sort_keys = 0;
  out = NULL;
  CHECK(cst_json_canonicalize(&out, NULL, in, strlen(in), &opts) == CST_OK);
  CHECK(out != NULL && strcmp(out, "{\"b\":[1,2.5,\"\\u00e9\\n\"],\"a\":null}") == 0);
  cst_free(out);

  cst_json_options opts2;
  CHECK(cst_json_options_init(&opts2, CST_JSON_OPTIONS_VERSION) == CST_OK);
  CHECK(opts2.sort_keys == 1 && opts2.max_depth == 64);
  CHECK(cst_json_options_init(&opts2, 999) == CST_EINVAL);

  /* Errors: a code, a message, and *out left NULL. */
  cst_error_clear();
  CHECK(cst_error_last() == NULL);
  out = (char*)1;
  CHECK(cst_json_canonicalize(&out, NULL, "{\"a\":", 5, NULL) == CST_EINVAL);
  CHECK(out == NULL);
  const cst_error* e = cst_error_last();
  CHECK(e != NULL && e->code == CST_EINVAL && strstr(e->message, "invalid JSON") != NULL);
  CHECK(cst_json_canonicalize(NULL, NULL, "1", 1, NULL) == CST_EINVAL);

  /* Deep nesting is an error, not a crash. */
  char deep[2001];
  memset(deep, '[', 1000);
  memset(deep + 1000, ']', 1000);
  deep[2000] = '\0';
  CHECK(cst_json_canonicalize(&out, NULL, deep, 2000, NULL) == CST_EINVAL);
  CHECK(strstr(cst_error_last()->message, "nesting") != NULL);

  cst_free(NULL);
}

static void test_agent(const char* data_dir) {
  cst_agent_options opts;
  CHECK(cst_agent_options_init(&opts, CST_AGENT_OPTIONS_VERSION) == CST_OK);
  CHECK(opts.api_port == -1 && opts.use_environment == 1);
  opts.data_dir = data_dir;
  opts.api_port = 0;
  opts.node_name = "c-test";
  opts.log_level = "warn";
  /* Free ports only, so this test can run beside others. */
  opts.config_yaml = "raft: {bind: 127.0.0.1:0}\ngossip: {bind: 127.0.0.1:0}\n";
  cst_agent* agent = NULL;
  CHECK(cst_agent_open(&agent, &opts) == CST_OK);
  if (!agent) return;
  CHECK(strlen(cst_agent_node_id(agent)) == 32);

  /* The data directory is locked while the agent lives. */
  cst_agent* second = NULL;
  CHECK(cst_agent_open(&second, &opts) == CST_EUNAVAILABLE);
  CHECK(second == NULL);
  CHECK(strstr(cst_error_last()->message, "in use") != NULL);

  CHECK(cst_agent_start(agent) == CST_OK);
  CHECK(cst_agent_api_port(agent) > 0);
  CHECK(cst_agent_start(agent) == CST_EINVAL);
  CHECK(cst_agent_stop(agent) == CST_OK);
  CHECK(cst_agent_stop(agent) == CST_OK);
  cst_agent_free(agent);
  cst_agent_free(NULL);

  /* Bad options are rejected with the field named. */
  opts.api_port = 70000;
  CHECK(cst_agent_open(&agent, &opts) == CST_EINVAL);
  CHECK(strstr(cst_error_last()->message, "api_port") != NULL);
  opts.api_port = 0;
  opts.log_level = "loud";
  CHECK(cst_agent_open(&agent, &opts) == CST_EINVAL);
  CHECK(strstr(cst_error_last()->message, "log.level") != NULL);
  CHECK(cst_agent_start(NULL) == CST_EINVAL);
  CHECK(cst_agent_node_id(NULL) == NULL);
}

int main(int argc, char** argv) {
  test_version();
  test_json();
  test_agent(argc > 1 ? argv[1] : "capi-test-data");
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("capi: all checks passed\n");
  return 0;
}
