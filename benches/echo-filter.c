/* The floor of git's long-running filter protocol: a filter process that hands every file back
 * unchanged, doing nothing else. benches/git-filter.sh runs `git add --renormalize .` with it
 * beside mlguard's filter and no filter, so that the cost of the protocol itself (git writes
 * each request in several packets and waits for each answer before the next file) is told
 * apart from the cost of stripping. Built with `cc -O2` by the script when a C compiler is there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FLUSH = -1, END = -2, MAX = 65516 };

/* Reads one pkt-line into buf; returns its payload's length, FLUSH or END. */
static int packet(char *buf) {
  char head[5] = {0};
  if (fread(head, 1, 4, stdin) != 4) return END;
  int n = (int)strtol(head, NULL, 16);
  if (n == 0) return FLUSH;
  if (n < 4 || n - 4 > MAX) return END;
  n -= 4;
  return fread(buf, 1, (size_t)n, stdin) == (size_t)n ? n : END;
}

static void write_packet(const char *data, size_t n) {
  fprintf(stdout, "%04zx", n + 4);
  fwrite(data, 1, n, stdout);
}

static void text(const char *s) { write_packet(s, strlen(s)); }
static void flush(void) { fputs("0000", stdout); }

int main(void) {
  static char buf[MAX];
  size_t cap = 1 << 20, len;
  char *content = malloc(cap);
  int n;
  if (content == NULL) return 1;
  while ((n = packet(buf)) >= 0) {}
  text("git-filter-server\n");
  text("version=2\n");
  flush();
  fflush(stdout);
  while ((n = packet(buf)) >= 0) {}
  text("capability=clean\n");
  flush();
  fflush(stdout);
  for (;;) {
    while ((n = packet(buf)) >= 0) {}
    if (n == END) return 0;
    len = 0;
    while ((n = packet(buf)) >= 0) {
      if (len + (size_t)n > cap) {
        cap *= 2;
        content = realloc(content, cap);
        if (content == NULL) return 1;
      }
      memcpy(content + len, buf, (size_t)n);
      len += (size_t)n;
    }
    if (n == END) return 1;
    text("status=success\n");
    flush();
    for (size_t at = 0; at < len; at += MAX) write_packet(content + at, len - at < MAX ? len - at : MAX);
    flush();
    flush();
    fflush(stdout);
  }
}
