/* The RSS floor of a C daemon linking what transmission-daemon links for its
 * trackers and hashes (bench/daemon.sh): libcurl initialised and OpenSSL's
 * SHA-1 used, nothing else. It idles, then prints its memory as JSON.
 *
 *   stack_floor_c [SECONDS (5)] */
#include <curl/curl.h>
#include <openssl/sha.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long status_kb(const char* key) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(key);
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0 && line[n] == ':') {
      v = strtol(line + n + 1, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

int main(int argc, char** argv) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  int seconds = argc > 1 ? atoi(argv[1]) : 5;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  SHA1((const unsigned char*)"floor", 5, digest);
  sleep((unsigned)seconds);
  printf("{\"rss_kb\": %ld, \"anon_kb\": %ld, \"file_kb\": %ld, \"sha1_byte\": %u}\n", status_kb("VmRSS"),
         status_kb("RssAnon"), status_kb("RssFile"), (unsigned)digest[0]);
  curl_global_cleanup();
  return 0;
}
