/* SPDX-License-Identifier: Apache-2.0 */
/* The Raft C API from a C11 program: a single-voter node, KV with compare-and-set, leases with
 * fencing tokens, errors and ownership, and the recovery command. */
#include <constellation.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      const cst_error *e_ = cst_error_last();                                  \
      if (e_) fprintf(stderr, "  last error %d: %s\n", e_->code, e_->message); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

/* What an asynchronous call reported; `calls` counts the callbacks (each must run once). */
struct outcome {
  atomic_int calls;
  int rc;
  uint64_t revision;
  cst_raft_lease lease;
  char error[256];
};

static void on_write(void *user, int rc, uint64_t revision, const char *error) {
  struct outcome *o = user;
  o->rc = rc;
  o->revision = revision;
  snprintf(o->error, sizeof o->error, "%s", error);
  atomic_fetch_add(&o->calls, 1);
}

static void on_lease(void *user, int rc, const cst_raft_lease *lease, const char *error) {
  struct outcome *o = user;
  o->rc = rc;
  if (lease) o->lease = *lease;
  snprintf(o->error, sizeof o->error, "%s", error);
  atomic_fetch_add(&o->calls, 1);
}

/* Waits up to 5 s for the callback. */
static int wait_for(struct outcome *o) {
  for (int i = 0; i < 5000 && atomic_load(&o->calls) == 0; ++i) {
    struct timespec ms = {0, 1000000};
    thrd_sleep(&ms, NULL);
  }
  return atomic_load(&o->calls);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "raft-capi-data";
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return 2;

  cst_raft_options opts;
  CHECK(cst_raft_options_init(&opts, CST_RAFT_OPTIONS_VERSION) == CST_OK);
  CHECK(opts.tick_ms == 50 && opts.election_ticks == 10);
  CHECK(cst_raft_options_init(&opts, 99) == CST_EINVAL);
  opts.id = 1;
  opts.data_dir = dir;
  opts.voters = "1=127.0.0.1:0";
  opts.log_level = "off";

  cst_raft *node = NULL;
  CHECK(cst_raft_open(&node, NULL) == CST_EINVAL);
  CHECK(cst_raft_open(&node, &opts) == CST_OK);
  if (!node) return 1;
  uint64_t leader = 0;
  CHECK(cst_raft_wait_for_leader(node, &leader, 5000) == CST_OK);
  CHECK(leader == 1);

  uint64_t rev = 0, rev2 = 0;
  CHECK(cst_raft_put(node, &rev, "app/a", "hello", 5) == CST_OK);
  CHECK(rev > 0);
  char *value = NULL;
  size_t len = 0;
  CHECK(cst_raft_get(node, &value, &len, &rev2, "app/a") == CST_OK);
  CHECK(value != NULL && len == 5 && strcmp(value, "hello") == 0 && rev2 == rev);
  cst_free(value);
  CHECK(cst_raft_cas(node, NULL, "app/a", "x", 1, rev + 100) == CST_ECONFLICT);
  CHECK(cst_raft_cas(node, &rev2, "app/a", "x", 1, rev) == CST_OK);
  CHECK(cst_raft_delete(node, NULL, "app/a") == CST_OK);
  value = (char *)1;
  CHECK(cst_raft_get(node, &value, NULL, NULL, "app/a") == CST_ENOTFOUND);
  CHECK(value == NULL);
  CHECK(cst_error_last() != NULL && strstr(cst_error_last()->message, "app/a") != NULL);

  cst_raft_lease l1, l2;
  CHECK(cst_raft_lease_acquire(node, &l1, "dns", "n1", 10000, 0) == CST_OK);
  CHECK(l1.token > 0 && l1.valid_ms > 0 && l1.valid_ms <= 10000);
  CHECK(cst_raft_lease_acquire(node, &l2, "dns", "n2", 10000, 0) == CST_ECONFLICT);
  CHECK(cst_raft_lease_renew(node, &l2, "dns", "n1", l1.token) == CST_OK);
  CHECK(l2.token == l1.token);
  CHECK(cst_raft_lease_release(node, "dns", "n1", l1.token) == CST_OK);
  CHECK(cst_raft_lease_acquire(node, &l2, "dns", "n2", 10000, 0) == CST_OK);
  CHECK(l2.token > l1.token);

  /* Asynchronous forms: each callback runs exactly once. */
  struct outcome w = {0}, a = {0}, r = {0}, bad = {0};
  CHECK(cst_raft_put_async(node, "app/async", "v", 1, on_write, &w) == CST_OK);
  CHECK(wait_for(&w) == 1 && w.rc == CST_OK && w.revision > 0);
  CHECK(cst_raft_lease_acquire_async(node, "job", "n1", 10000, 0, on_lease, &a) == CST_OK);
  CHECK(wait_for(&a) == 1 && a.rc == CST_OK && a.lease.token > 0);
  CHECK(cst_raft_lease_renew_async(node, "job", "n1", a.lease.token + 1, on_lease, &r) == CST_OK);
  CHECK(wait_for(&r) == 1 && r.rc == CST_ECONFLICT && strlen(r.error) > 0);
  CHECK(cst_raft_lease_acquire_async(node, "", "n1", 10000, 0, on_lease, &bad) == CST_OK);
  CHECK(wait_for(&bad) == 1 && bad.rc == CST_EINVAL);
  CHECK(cst_raft_put_async(node, "k", "v", 1, NULL, NULL) == CST_EINVAL);
  CHECK(cst_raft_put_async(NULL, "k", "v", 1, on_write, &w) == CST_EINVAL);
  {
    struct timespec settle = {0, 50000000};
    thrd_sleep(&settle, NULL);
  }
  CHECK(atomic_load(&w.calls) == 1 && atomic_load(&a.calls) == 1 && atomic_load(&r.calls) == 1);

  /* A running node's directory cannot be recovered. */
  uint64_t solo[] = {1};
  CHECK(cst_raft_recover(dir, solo, 1) == CST_EUNAVAILABLE);
  cst_raft_free(node);
  cst_raft_free(NULL);
  CHECK(cst_raft_recover(dir, solo, 1) == CST_OK);

  /* The data survives a restart (and the recovered configuration is a single voter again). */
  CHECK(cst_raft_open(&node, &opts) == CST_OK);
  CHECK(cst_raft_wait_for_leader(node, &leader, 5000) == CST_OK);
  CHECK(cst_raft_lease_acquire(node, &l1, "dns", "n3", 10000, 0) == CST_ECONFLICT);
  cst_raft_free(node);

  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
