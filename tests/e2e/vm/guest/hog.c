/* kvmem-hog: allocate anonymous memory, touch every page, hold it until killed.
 *
 *   kvmem-hog TOTAL_MIB [STEP_MIB [STEP_MS]]
 *
 * Grows by STEP_MIB (default: all at once) every STEP_MS milliseconds until TOTAL_MIB is
 * resident, then sleeps forever. Progress lines go to stdout (the guest's serial log).
 * Built statically by build-guest.sh and started by the guest's /init (never as PID 1,
 * so the OOM killer can pick it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: kvmem-hog TOTAL_MIB [STEP_MIB [STEP_MS]]\n");
    return 2;
  }
  long total = atol(argv[1]);
  long step = argc > 2 ? atol(argv[2]) : 0;
  long step_ms = argc > 3 ? atol(argv[3]) : 0;
  if (step <= 0 || step > total) step = total;
  long page = sysconf(_SC_PAGESIZE);
  setvbuf(stdout, NULL, _IOLBF, 0);

  long held = 0;
  while (held < total) {
    long n = total - held < step ? total - held : step;
    size_t len = (size_t)n << 20;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      printf("kvmem-hog: mmap of %ld MiB failed at %ld MiB\n", n, held);
      break;
    }
    for (size_t off = 0; off < len; off += (size_t)page) p[off] = (unsigned char)((off / (size_t)page) | 1U);
    held += n;
    if (held < total) {
      printf("kvmem-hog: holding %ld MiB\n", held);
      if (step_ms > 0) sleep_ms(step_ms);
    }
  }
  printf("kvmem-hog: holding %ld MiB (done)\n", held);
  for (;;) pause();
}
