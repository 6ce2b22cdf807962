/* SPDX-License-Identifier: Apache-2.0 */
/* The services C API from C11: validation, the catalog (JSON and wire forms), health checks. */
#include <constellation.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                                          \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      const cst_error *e_ = cst_error_last();                                                 \
      fprintf(stderr, "%s:%d: expected %s (last error: %s)\n", __FILE__, __LINE__, #cond,     \
              e_ ? e_->message : "none");                                                     \
      ++failures;                                                                             \
    }                                                                                         \
  } while (0)

static const char *NODE_A =
    "{\"id\":\"10000000000000000000000000000001\",\"name\":\"edge-1\",\"roles\":[\"ingress\"],"
    "\"tags\":[\"ssd\"],\"version\":\"0.1.0\",\"addresses\":{\"backend\":\"10.0.0.1\",\"tailscale\":"
    "\"100.64.0.1\"},\"entry_version\":3,\"instances\":[{\"id\":\"web-1\",\"service\":\"web\","
    "\"project\":\"shop\",\"runtime\":\"process\",\"runtime_id\":\"4242\",\"labels\":{\"traefik.enable\":"
    "\"true\"},\"ports\":[{\"target\":8080,\"published\":8080,\"protocol\":\"tcp\",\"host_ip\":\"\"}],"
    "\"networks\":[\"backend\"],\"health\":\"passing\",\"checks\":[{\"name\":\"http\",\"status\":"
    "\"passing\",\"output\":\"HTTP 200\"}]}]}";

static const char *NODE_B =
    "{\"id\":\"10000000000000000000000000000002\",\"name\":\"edge-2\",\"addresses\":{\"backend\":"
    "\"10.0.0.2\"},\"entry_version\":1,\"instances\":[{\"id\":\"web-1\",\"service\":\"web\","
    "\"health\":\"warning\"}]}";

static void test_validation(const char *source_dir) {
  char path[4096];
  cst_validation *v = NULL;
  cst_validate_options opts = CST_VALIDATE_OPTIONS_INIT;
  EXPECT(cst_validate_options_init(&opts, CST_VALIDATE_OPTIONS_VERSION) == CST_OK);
  opts.use_process_environment = 0;
  snprintf(path, sizeof path, "%s/examples/services", source_dir);
  EXPECT(cst_services_validate(&v, path, &opts) == CST_OK);
  EXPECT(cst_validation_ok(v) == 1);
  EXPECT(cst_validation_service_count(v) >= 10);
  EXPECT(cst_validation_diagnostic_count(v) == 0);
  EXPECT(strcmp(cst_validation_service_name(v, 0), "api") == 0);
  EXPECT(cst_validation_service_name(v, 1000) == NULL);
  EXPECT(strstr(cst_validation_json(v), "\"traefik.http.routers.hello.rule\"") != NULL);
  cst_validation_free(v);

  v = NULL;
  snprintf(path, sizeof path, "%s/tests/golden/spec/broken/13-cross-file", source_dir);
  EXPECT(cst_services_validate(&v, path, NULL) == CST_OK);
  EXPECT(cst_validation_ok(v) == 0);
  {
    size_t i, n = cst_validation_diagnostic_count(v), errors = 0;
    cst_diagnostic d;
    for (i = 0; i < n; ++i) {
      EXPECT(cst_validation_diagnostic(v, i, &d) == CST_OK);
      EXPECT(d.file != NULL && d.message != NULL && d.field != NULL && d.line > 0);
      errors += (size_t)d.error;
    }
    EXPECT(errors == 2);
    EXPECT(cst_validation_diagnostic(v, n, &d) == CST_EINVAL);
  }
  cst_validation_free(v);
  cst_validation_free(NULL);

  v = (cst_validation *)1;
  EXPECT(cst_services_validate(&v, "/nonexistent/dir", NULL) == CST_ENOTFOUND);
  EXPECT(v == NULL);
}

static void test_catalog(void) {
  cst_catalog *c = NULL, *d = NULL;
  int result = -1;
  uint64_t gen = 0;
  char *json = NULL;
  unsigned char *bytes = NULL;
  size_t len = 0;

  EXPECT(cst_catalog_new(&c) == CST_OK);
  EXPECT(cst_catalog_merge_json(c, NODE_A, &result) == CST_OK && result == CST_MERGE_APPLIED);
  EXPECT(cst_catalog_merge_json(c, NODE_A, &result) == CST_OK && result == CST_MERGE_DUPLICATE);
  EXPECT(cst_catalog_merge_json(c, NODE_B, &result) == CST_OK && result == CST_MERGE_APPLIED);
  EXPECT(cst_catalog_publish(c, &gen) == CST_OK && gen == 1);

  EXPECT(cst_catalog_healthy_json(c, "web", NULL, 0, &json) == CST_OK);
  EXPECT(strstr(json, "\"node_name\":\"edge-1\"") != NULL && strstr(json, "edge-2") == NULL);
  EXPECT(strstr(json, "\"address\":\"10.0.0.1\"") != NULL);
  cst_free(json);
  EXPECT(cst_catalog_healthy_json(c, "web", "", 1, &json) == CST_OK);
  EXPECT(strstr(json, "edge-2") != NULL);
  cst_free(json);
  EXPECT(cst_catalog_healthy_json(c, "web", "tailscale", 1, &json) == CST_OK);
  EXPECT(strcmp(json, "[]") == 0); /* web-1 on edge-1 is reachable on backend only */
  cst_free(json);

  EXPECT(cst_catalog_set_node_state(c, "10000000000000000000000000000001", CST_NODE_FAILED) == CST_OK);
  EXPECT(cst_catalog_set_node_state(c, "10000000000000000000000000000009", CST_NODE_FAILED) == CST_ENOTFOUND);
  EXPECT(cst_catalog_publish(c, &gen) == CST_OK && gen == 2);
  EXPECT(cst_catalog_healthy_json(c, "web", NULL, 0, &json) == CST_OK);
  EXPECT(strcmp(json, "[]") == 0);
  cst_free(json);

  /* The wire form round-trips into another catalog. */
  EXPECT(cst_catalog_encode_json(&bytes, &len, NODE_A) == CST_OK && len > 0);
  EXPECT(cst_catalog_new(&d) == CST_OK);
  EXPECT(cst_catalog_merge_encoded(d, bytes, len, &result) == CST_OK && result == CST_MERGE_APPLIED);
  EXPECT(cst_catalog_merge_encoded(d, bytes, len - 1, &result) == CST_EINVAL);
  cst_free(bytes);
  EXPECT(cst_catalog_publish(d, NULL) == CST_OK);
  EXPECT(cst_catalog_snapshot_json(d, &json) == CST_OK);
  EXPECT(strstr(json, "\"traefik.enable\":\"true\"") != NULL && strstr(json, "\"entry_version\":3") != NULL);
  cst_free(json);

  EXPECT(cst_catalog_merge_json(c, "{\"id\":\"zz\"}", &result) == CST_EINVAL);
  EXPECT(cst_catalog_merge_json(c, "not json", &result) == CST_EINVAL);
  EXPECT(cst_error_last() != NULL && cst_error_last()->code == CST_EINVAL);
  EXPECT(cst_catalog_merge_json(NULL, NODE_A, &result) == CST_EINVAL);
  cst_catalog_free(c);
  cst_catalog_free(d);
  cst_catalog_free(NULL);
}

static void test_health(void) {
  cst_health_check check = CST_HEALTH_CHECK_INIT;
  const char *ok_cmd[] = {"sh", "-c", "echo fine", NULL};
  const char *warn_cmd[] = {"sh", "-c", "exit 1", NULL};
  int status = -1;
  char *output = NULL;
  EXPECT(cst_health_check_init(&check, CST_HEALTH_CHECK_VERSION) == CST_OK);
  check.kind = CST_CHECK_EXEC;
  check.command = ok_cmd;
  EXPECT(cst_health_run(&check, &status, &output) == CST_OK && status == CST_HEALTH_PASSING);
  EXPECT(output && strcmp(output, "exit 0: fine") == 0);
  cst_free(output);
  check.command = warn_cmd;
  EXPECT(cst_health_run(&check, &status, NULL) == CST_OK && status == CST_HEALTH_WARNING);
  check.kind = CST_CHECK_TCP;
  check.target = "127.0.0.1:1";
  check.timeout_ms = 1000;
  EXPECT(cst_health_run(&check, &status, NULL) == CST_OK && status == CST_HEALTH_CRITICAL);
  check.kind = 42;
  EXPECT(cst_health_run(&check, &status, NULL) == CST_EINVAL);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: services_test SOURCE_DIR\n");
    return 2;
  }
  test_validation(argv[1]);
  test_catalog();
  test_health();
  if (failures) {
    fprintf(stderr, "%d failure(s)\n", failures);
    return 1;
  }
  printf("services C API: ok\n");
  return 0;
}
