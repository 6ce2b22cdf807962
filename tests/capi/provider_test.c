/* SPDX-License-Identifier: Apache-2.0 */
/* The Traefik provider from a C11 program: render, diagnostics, errors, and the endpoint
   (503 before a complete state, 200 with the rendered bytes after), over a raw socket. */
#define _POSIX_C_SOURCE 200809L
#include <constellation.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                          \
    }                                                                      \
  } while (0)

static const char *kState =
    "{\"complete\": true, \"nodes\": ["
    " {\"name\": \"n1\", \"addresses\": {\"backend\": \"10.0.0.1\"}, \"instances\": ["
    "  {\"id\": \"web-1\", \"service\": \"web\", \"project\": \"shop\", \"networks\": [\"backend\"],"
    "   \"ports\": [{\"target\": 80, \"published\": 8080}],"
    "   \"labels\": {\"traefik.http.routers.web.rule\": \"Host(`web.example.com`)\","
    "                \"traefik.http.routers.web.entrypoints\": \"websecure\","
    "                \"traefik.http.routers.bad.rulee\": \"x\"}}]}]}";

static void test_render(void) {
  char *out = NULL, *diags = NULL;
  size_t len = 0;
  CHECK(cst_provider_render(&out, &len, &diags, kState, strlen(kState), CST_TRAEFIK_V3, CST_TRAEFIK_JSON, NULL) ==
        CST_OK);
  CHECK(out != NULL && len == strlen(out));
  CHECK(out != NULL && strstr(out, "\"url\": \"http://10.0.0.1:8080\"") != NULL);
  CHECK(out != NULL && strstr(out, "\"rule\": \"Host(`web.example.com`)\"") != NULL);
  CHECK(diags != NULL && strstr(diags, "\"label\":\"traefik.http.routers.bad.rulee\"") != NULL);
  CHECK(diags != NULL && strstr(diags, "did you mean 'rule'?") != NULL);
  cst_free(out);
  cst_free(diags);

  /* Same state, same bytes; options change the output. */
  char *a = NULL, *b = NULL;
  cst_provider_options opts;
  CHECK(cst_provider_options_init(&opts, CST_PROVIDER_OPTIONS_VERSION) == CST_OK);
  CHECK(opts.exposed_by_default == 1 && opts.default_rule == NULL);
  opts.entry_points = "web";
  CHECK(cst_provider_render(&a, NULL, NULL, kState, strlen(kState), CST_TRAEFIK_V2, CST_TRAEFIK_YAML, NULL) == CST_OK);
  CHECK(cst_provider_render(&b, NULL, NULL, kState, strlen(kState), CST_TRAEFIK_V2, CST_TRAEFIK_YAML, NULL) == CST_OK);
  CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
  cst_free(b);
  b = NULL;
  CHECK(cst_provider_render(&b, NULL, NULL, kState, strlen(kState), CST_TRAEFIK_V2, CST_TRAEFIK_YAML, &opts) == CST_OK);
  CHECK(b != NULL && strstr(b, "routers") == NULL && strstr(a, "routers") != NULL);
  cst_free(a);
  cst_free(b);

  /* Errors. */
  out = (char *)1;
  CHECK(cst_provider_render(&out, NULL, NULL, "{\"nodes\": 3}", 12, CST_TRAEFIK_V3, CST_TRAEFIK_JSON, NULL) ==
        CST_EINVAL);
  CHECK(out == NULL);
  const cst_error *e = cst_error_last();
  CHECK(e != NULL && strstr(e->message, "nodes: expected array") != NULL);
  CHECK(cst_provider_render(&out, NULL, NULL, kState, strlen(kState), 4, CST_TRAEFIK_JSON, NULL) == CST_EINVAL);
  CHECK(cst_provider_render(NULL, NULL, NULL, kState, strlen(kState), 3, 0, NULL) == CST_EINVAL);
  opts.default_rule = "{{ if }}";
  CHECK(cst_provider_render(&out, NULL, NULL, kState, strlen(kState), 3, 0, &opts) == CST_EINVAL);
  e = cst_error_last();
  CHECK(e != NULL && strstr(e->message, "default_rule") != NULL);
  CHECK(cst_provider_options_init(&opts, 99) == CST_EINVAL);
}

/* GET path on 127.0.0.1:port; returns the status code and copies the body into buf. */
static int http_get(int port, const char *path, char *buf, size_t size) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  char req[256];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
  if (write(fd, req, (size_t)n) != n) {
    close(fd);
    return -1;
  }
  size_t got = 0;
  ssize_t r;
  while (got + 1 < size && (r = read(fd, buf + got, size - 1 - got)) > 0) got += (size_t)r;
  buf[got] = '\0';
  close(fd);
  int status = -1;
  if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) return -1;
  return status;
}

static void test_server(void) {
  cst_provider_server_options serve = CST_PROVIDER_SERVER_OPTIONS_INIT;
  serve.default_format = CST_TRAEFIK_JSON;
  cst_provider_server *server = NULL;
  CHECK(cst_provider_server_start(&server, NULL, &serve) == CST_OK);
  CHECK(server != NULL);
  if (!server) return;
  int port = cst_provider_server_port(server);
  CHECK(port > 0);
  static char buf[16384];
  CHECK(http_get(port, "/v1/traefik", buf, sizeof buf) == 503);

  const char *incomplete = "{\"complete\": false, \"nodes\": []}";
  CHECK(cst_provider_server_update(server, incomplete, strlen(incomplete)) == CST_OK);
  CHECK(cst_provider_server_sync(server) == CST_OK);
  CHECK(http_get(port, "/v1/traefik", buf, sizeof buf) == 503);

  CHECK(cst_provider_server_update(server, kState, strlen(kState)) == CST_OK);
  CHECK(cst_provider_server_sync(server) == CST_OK);
  CHECK(http_get(port, "/v1/traefik", buf, sizeof buf) == 200);
  CHECK(strstr(buf, "ETag: \"") != NULL && strstr(buf, "\"url\": \"http://10.0.0.1:8080\"") != NULL);
  CHECK(http_get(port, "/v1/traefik/v2?format=yaml", buf, sizeof buf) == 200);
  CHECK(strstr(buf, "url: \"http://10.0.0.1:8080\"") != NULL);

  /* A bad update is refused; the previous state stays served. */
  CHECK(cst_provider_server_update(server, "{", 1) == CST_EINVAL);
  CHECK(http_get(port, "/v1/traefik", buf, sizeof buf) == 200);

  CHECK(cst_provider_server_stop(server) == CST_OK);
  CHECK(cst_provider_server_stop(server) == CST_OK);
  cst_provider_server_free(server);
  cst_provider_server_free(NULL);

  serve.port = -5;
  server = NULL;
  CHECK(cst_provider_server_start(&server, NULL, &serve) == CST_EINVAL);
  CHECK(server == NULL);
}

int main(void) {
  test_render();
  test_server();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("provider C API: ok\n");
  return 0;
}
