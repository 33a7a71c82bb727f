/* kvmem-offload-workload: the VM stand-in of tests/e2e/offload_guest.sh.
 *
 *   kvmem-offload-workload MIB
 *
 * Allocates MIB of anonymous memory and fills every page once with compressible text (a line
 * naming the page, repeated), prints "kvmem-offload-workload: ready", then idles: cold memory
 * that compressed offload may take. On SIGUSR1 it starts touching every page again, in a loop
 * (reading one byte per page and writing it back), so what was offloaded comes back: the
 * refaults the offload guard must notice. Runs under its own cgroup; never PID 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t retouch = 0;
static void on_usr1(int sig) {
  (void)sig;
  retouch = 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: kvmem-offload-workload MIB\n");
    return 2;
  }
  size_t len = (size_t)atol(argv[1]) << 20;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGUSR1, on_usr1);
  unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("kvmem-offload-workload: mmap");
    return 1;
  }
  char line[64];
  for (size_t off = 0; off < len; off += page) {
    int n = snprintf(line, sizeof line, "page %zu of the offload workload; ", off / page);
    for (size_t i = 0; i < page; i += (size_t)n) memcpy(p + off + i, line, page - i < (size_t)n ? page - i : (size_t)n);
  }
  printf("kvmem-offload-workload: ready, %zu MiB touched once\n", len >> 20);
  while (!retouch) pause();
  printf("kvmem-offload-workload: touching all of it again\n");
  unsigned long passes = 0;
  for (;;) {
    for (size_t off = 0; off < len; off += page) p[off] = (unsigned char)(p[off] + 1U);
    if (++passes % 10 == 0) printf("kvmem-offload-workload: %lu passes\n", passes);
  }
}
