// memory-release: the two system calls a Node process needs to give memory back that Node itself never
// returns (runtime/common/memory/memory-release.ts decides what and when; this file only calls the kernel
// and glibc with what it is given).
//   dropCleanPages(start, length): madvise(MADV_DONTNEED) on a range of a read-only file mapping. The kernel
//     unmaps those pages from this process; the file's page cache keeps them, so a later use is a minor fault
//     that maps the same bytes again. Only for mappings that were never written (no private copy to lose).
//   trimMalloc(): glibc's malloc_trim(0), which returns the free pages inside every arena, not only the top.
#define NAPI_VERSION 8
#include <errno.h>
#include <malloc.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static int read_bigint(napi_env env, napi_value value, uint64_t *out) {
  bool lossless = false;
  return napi_get_value_bigint_uint64(env, value, out, &lossless) == napi_ok && lossless;
}

static napi_value drop_clean_pages(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2)
    return throw_error(env, "dropCleanPages(start, length) takes two bigints");
  uint64_t start = 0, length = 0;
  if (!read_bigint(env, argv[0], &start) || !read_bigint(env, argv[1], &length))
    return throw_error(env, "dropCleanPages(start, length) takes two non-negative bigints");
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  if (start % page != 0 || length % page != 0 || length == 0 || start + length < start)
    return throw_error(env, "dropCleanPages: start and length must be page-aligned and length > 0");
  napi_value result;
  int rc = madvise((void *)(uintptr_t)start, (size_t)length, MADV_DONTNEED);
  napi_create_int32(env, rc == 0 ? 0 : errno, &result);
  return result;
}

static napi_value trim_malloc(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, malloc_trim(0) == 1, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"dropCleanPages", NULL, drop_clean_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trimMalloc", NULL, trim_malloc, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
