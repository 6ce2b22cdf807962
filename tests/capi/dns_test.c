/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS writer from C11: open with a memory provider, dry run, apply, converge, errors. */
#include <constellation.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define EXPECT(cond)                                                        \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);  \
      ++failures;                                                           \
    }                                                                       \
  } while (0)

static const char *kConfig =
    "{\"owner\": \"c-test\", \"zones\": [{\"name\": \"example.com\", \"provider\": \"mem\"}],"
    " \"providers\": {\"mem\": {\"type\": \"memory\"}}}";
static const char *kSnapshot =
    "{\"complete\": true, \"nodes\": [{\"id\": \"000000000000000000000000000000a1\", \"roles\": [\"ingress\"],"
    " \"addresses\": {\"publicnet\": \"198.51.100.1\"}, \"instances\": [{\"id\": \"w\", \"labels\":"
    " {\"traefik.http.routers.w.rule\": \"Host(`www.example.com`)\"}}]}]}";

static int calls = 0;
static uint64_t lost_lease(void *payload) {
  (void)payload;
  ++calls;
  return 0;
}

int main(void) {
  cst_dns *dns = NULL;
  char *report = NULL;
  char *name = NULL;
  cst_dns_run_options opts;

  cst_dns_free(NULL); /* no-op */
  EXPECT(cst_dns_open(&dns, "{\"owner\": \"x\"}", 14) == CST_EINVAL);
  EXPECT(cst_error_last() != NULL && strstr(cst_error_last()->message, "zones") != NULL);
  EXPECT(dns == NULL);
  EXPECT(cst_dns_open(&dns, kConfig, strlen(kConfig)) == CST_OK);

  /* Dry run: one create planned, nothing written. */
  EXPECT(cst_dns_run(dns, &report, kSnapshot, strlen(kSnapshot), NULL) == CST_OK);
  EXPECT(report != NULL && strstr(report, "\"create\":1") != NULL && strstr(report, "\"applied\":0") != NULL);
  cst_free(report);

  /* A lost lease stops the run before any write. */
  EXPECT(cst_dns_run_options_init(&opts, CST_DNS_RUN_OPTIONS_VERSION) == CST_OK);
  opts.apply = 1;
  opts.fence = lost_lease;
  EXPECT(cst_dns_run(dns, &report, kSnapshot, strlen(kSnapshot), &opts) == CST_OK);
  EXPECT(strstr(report, "\"aborted\":true") != NULL && strstr(report, "\"applied\":0") != NULL);
  EXPECT(calls > 0);
  cst_free(report);

  /* Apply, then the next run has nothing to do. */
  opts.fence = NULL;
  opts.fencing_token = 7;
  EXPECT(cst_dns_run(dns, &report, kSnapshot, strlen(kSnapshot), &opts) == CST_OK);
  EXPECT(strstr(report, "\"applied\":1") != NULL);
  cst_free(report);
  EXPECT(cst_dns_run(dns, &report, kSnapshot, strlen(kSnapshot), &opts) == CST_OK);
  EXPECT(strstr(report, "\"create\":0") != NULL && strstr(report, "no changes") != NULL);
  cst_free(report);

  EXPECT(cst_dns_run(dns, &report, "{", 1, NULL) == CST_EINVAL);
  EXPECT(report == NULL);
  cst_dns_free(dns);

  EXPECT(cst_dns_normalize_name(&name, "B\xC3\xBC" "cher.Example.") == CST_OK);
  EXPECT(name != NULL && strcmp(name, "xn--bcher-kva.example") == 0);
  cst_free(name);
  EXPECT(cst_dns_normalize_name(&name, "bad..name") == CST_EINVAL);

  if (failures) {
    fprintf(stderr, "%d failures\n", failures);
    return 1;
  }
  printf("dns C API: all checks passed\n");
  return 0;
}
