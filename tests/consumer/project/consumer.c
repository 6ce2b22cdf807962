/* SPDX-License-Identifier: Apache-2.0 */
#include <constellation.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  char* out = NULL;
  if (cst_version_number() != CST_VERSION_NUMBER) return 1;
  if (cst_json_canonicalize(&out, NULL, "{\"b\":2,\"a\":1}", 13, NULL) != CST_OK) return 1;
  int ok = strcmp(out, "{\"a\":1,\"b\":2}") == 0;
  cst_free(out);
  if (!ok) return 1;
  printf("consumer (C) ok: constellation %s\n", cst_version());
  return 0;
}
