/* kvmem-fragment: fill one NUMA node with 4 KiB pages, then give back all but one in N.
 *
 *   kvmem-fragment NODE KEEP_EVERY FLOOR_MIB
 *
 * Binds its memory to NODE (set_mempolicy MPOL_BIND, a raw syscall: no libnuma in a static
 * build), then faults in 4 KiB pages (MADV_NOHUGEPAGE) 1 MiB at a time until /proc/buddyinfo
 * shows no free block of order >= 9 left on NODE or only FLOOR_MIB free there (the caller
 * puts the floor above the zone's watermarks: below the min watermark the OOM killer comes).
 * Then it releases every page but one in each KEEP_EVERY (MADV_DONTNEED), so what it keeps
 * is spread over all it filled and what it gave back lies in blocks far below 2 MiB, prints
 * "kvmem-fragment: ready ..." and sleeps until killed. Built statically by
 * tests/e2e/numa_guest.sh for its two-node guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define MPOL_BIND 2
#define HUGE_ORDER 9

/* The node's free pages and its free blocks of order >= HUGE_ORDER, over all its zones. */
static int buddy(int node, long *free_pages, long *huge_blocks) {
  FILE *f = fopen("/proc/buddyinfo", "r");
  if (!f) return -1;
  char line[512];
  *free_pages = 0;
  *huge_blocks = 0;
  while (fgets(line, sizeof line, f)) {
    int n, off = 0;
    char zone[32];
    if (sscanf(line, "Node %d, zone %31s%n", &n, zone, &off) != 2 || n != node) continue;
    char *p = line + off, *end;
    for (int order = 0;; ++order) {
      long count = strtol(p, &end, 10);
      if (end == p) break;
      p = end;
      *free_pages += count << order;
      if (order >= HUGE_ORDER) *huge_blocks += count;
    }
  }
  fclose(f);
  return 0;
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: kvmem-fragment NODE KEEP_EVERY FLOOR_MIB\n");
    return 2;
  }
  int node = atoi(argv[1]);
  long keep = atol(argv[2]), floor_mib = atol(argv[3]);
  if (node < 0 || node > 62 || keep < 2) {
    fprintf(stderr, "kvmem-fragment: NODE 0..62 and KEEP_EVERY >= 2\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  unsigned long mask = 1UL << node;
  if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, 64UL) != 0) {
    printf("kvmem-fragment: set_mempolicy(MPOL_BIND, node %d): %s\n", node, strerror(errno));
    return 1;
  }
  const long page = sysconf(_SC_PAGESIZE), chunk = 1L << 20, floor_pages = (floor_mib << 20) / page;
  long free_pages, huge;
  if (buddy(node, &free_pages, &huge) != 0 || free_pages == 0) {
    printf("kvmem-fragment: node %d not in /proc/buddyinfo\n", node);
    return 1;
  }
  printf("kvmem-fragment: node %d before: %ld free pages, %ld free blocks of order >= %d\n", node, free_pages,
         huge, HUGE_ORDER);
  /* Room for all of the node's free memory; only what is faulted in is ever allocated. */
  size_t room = ((size_t)free_pages * (size_t)page + (size_t)chunk - 1) / (size_t)chunk * (size_t)chunk;
  unsigned char *base = mmap(NULL, room, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED || madvise(base, room, MADV_NOHUGEPAGE) != 0) {
    printf("kvmem-fragment: mmap/madvise of %zu bytes: %s\n", room, strerror(errno));
    return 1;
  }
  const double t0 = seconds();
  int populate = 1;
  size_t used = 0;
  while (used < room && huge > 0 && free_pages > floor_pages) {
    /* In the kernel, without a page fault per page: TCG makes each fault expensive. */
    if (populate && madvise(base + used, (size_t)chunk, MADV_POPULATE_WRITE) != 0) populate = 0;
    if (!populate) {
      for (size_t off = 0; off < (size_t)chunk; off += (size_t)page) base[used + off] = 1;
    }
    used += (size_t)chunk;
    if (buddy(node, &free_pages, &huge) != 0) return 1;
  }
  const double t1 = seconds();
  long touched = (long)(used / (size_t)page), released = 0;
  for (long i = 0; i < touched; i += keep) {
    long n = i + keep <= touched ? keep - 1 : touched - i - 1;
    if (n <= 0) continue;
    if (madvise(base + (size_t)(i + 1) * (size_t)page, (size_t)n * (size_t)page, MADV_DONTNEED) != 0) {
      printf("kvmem-fragment: madvise(MADV_DONTNEED): %s\n", strerror(errno));
      return 1;
    }
    released += n;
  }
  const double t2 = seconds();
  buddy(node, &free_pages, &huge);
  printf("kvmem-fragment: ready: node %d touched %ld pages (%zu MiB) in %.2f s, released %ld keeping 1 in %ld "
         "in %.2f s; now %ld free pages, %ld free blocks of order >= %d\n",
         node, touched, used >> 20, t1 - t0, released, keep, t2 - t1, free_pages, huge, HUGE_ORDER);
  for (;;) pause();
}
