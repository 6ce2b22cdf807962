/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
/* The gossip C API from a C11 program: two nodes on loopback join, state and events flow, the
 * keyring rotates, errors and ownership follow the conventions. */
#include <constellation.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static atomic_int joins;

static void on_event(const char *json, void *payload) {
  (void)payload;
  if (strstr(json, "\"kind\":\"join\"")) atomic_fetch_add(&joins, 1);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Polls node's members until `needle` appears (up to ~10 s). */
static int wait_for(cst_gossip *node, const char *needle) {
  for (int i = 0; i < 200; i++) {
    char *m = NULL;
    if (cst_gossip_members(node, &m) == CST_OK && strstr(m, needle)) {
      cst_free(m);
      return 1;
    }
    cst_free(m);
    sleep_ms(50);
  }
  return 0;
}

int main(void) {
  static const char *k1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  static const char *k2 = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
  cst_gossip_options o;
  CHECK(cst_gossip_options_init(&o, CST_GOSSIP_OPTIONS_VERSION) == CST_OK);
  CHECK(cst_gossip_options_init(&o, 42) == CST_EINVAL);
  cst_gossip *a = NULL, *b = NULL;
  CHECK(cst_gossip_start(&a, &o) == CST_EINVAL); /* no name */
  CHECK(a == NULL);
  o.name = "a";
  o.bind = "127.0.0.1:0";
  o.profile = "fast";
  o.keys = "AAAA";
  CHECK(cst_gossip_start(&a, &o) == CST_EINVAL);
  CHECK(strstr(cst_error_last()->message, "AES-256 needs 32") != NULL);
  o.keys = k1;
  o.label = "capi";
  CHECK(cst_gossip_start(&a, &o) == CST_OK);
  if (!a) return 1;
  char *addr = NULL;
  CHECK(cst_gossip_advertise_address(a, &addr) == CST_OK);
  CHECK(addr && strncmp(addr, "127.0.0.1:", 10) == 0);

  uint64_t sub = 0;
  CHECK(cst_gossip_subscribe(a, &sub, on_event, NULL) == CST_OK);
  o.name = "b";
  o.join = addr;
  CHECK(cst_gossip_start(&b, &o) == CST_OK);
  cst_free(addr);
  if (!b) return 1;
  CHECK(wait_for(a, "\"name\":\"b\""));
  CHECK(atomic_load(&joins) >= 1);
  CHECK(cst_gossip_set_state(b, "role", "web") == CST_OK);
  CHECK(wait_for(a, "\"role\":\"web\""));
  CHECK(cst_gossip_set_state(b, NULL, "x") == CST_EINVAL);
  CHECK(cst_gossip_unsubscribe(a, sub) == CST_OK);

  char *keys = NULL;
  CHECK(cst_gossip_install_key(a, k2) == CST_OK);
  CHECK(cst_gossip_install_key(b, k2) == CST_OK);
  CHECK(cst_gossip_use_key(a, k2) == CST_OK);
  CHECK(cst_gossip_use_key(b, k2) == CST_OK);
  CHECK(cst_gossip_remove_key(a, k2) == CST_ECONFLICT);
  CHECK(cst_gossip_remove_key(a, k1) == CST_OK);
  CHECK(cst_gossip_remove_key(a, k1) == CST_ENOTFOUND);
  CHECK(cst_gossip_list_keys(a, &keys) == CST_OK);
  CHECK(keys && strstr(keys, k2) && !strstr(keys, k1));
  cst_free(keys);
  CHECK(cst_gossip_set_state(b, "after", "rotation") == CST_OK);
  CHECK(wait_for(a, "\"after\":\"rotation\""));

  char *metrics = NULL;
  CHECK(cst_gossip_metrics(a, &metrics) == CST_OK);
  CHECK(metrics && strstr(metrics, "gossip_packets_sent_total{node=\"a\"}") != NULL);
  cst_free(metrics);

  CHECK(cst_gossip_leave(b, 2000) == CST_OK);
  CHECK(wait_for(a, "\"state\":\"left\""));
  cst_gossip_free(b);
  cst_gossip_free(a);
  cst_gossip_free(NULL);
  CHECK(cst_gossip_members(NULL, &keys) == CST_EINVAL);
  if (failures) fprintf(stderr, "%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
