// syscalls: the few system calls our processes need and Node does not offer (runtime/common/native/syscalls.ts
// loads it; the callers decide what and when, this file only calls the kernel and glibc with what it is given).
// Memory release (runtime/common/memory/memory-release.ts):
//   dropCleanPages(start, length): madvise(MADV_DONTNEED) on a range of a read-only file mapping. The kernel
//     unmaps those pages from this process; the file's page cache keeps them, so a later use is a minor fault
//     that maps the same bytes again. Only for mappings that were never written (no private copy to lose).
//   trimMalloc(): glibc's malloc_trim(0), which returns the free pages inside every arena, not only the top.
#define NAPI_VERSION 8
#include <errno.h>
#include <malloc.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
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

// ---- the driver's tmpfs: mount(2) and umount2(2) on libuv's thread pool ----------------------------------
// A call of the mount binary is a fork and exec of /bin/mount and its libraries (2-3 ms idle, far more under
// load); the system call itself takes microseconds. On the thread pool, so a slow mount never holds the event
// loop; the promise resolves with "" or the error text (strerror and the errno), never rejects.

enum job_kind { MOUNT_TMPFS, UNMOUNT };

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  enum job_kind kind;
  char *target;
  char *data; /* tmpfs options, or NULL */
  int error;
} mount_job;

/* A JS string as a C string; NULL (and a thrown error) when it is not a string or holds a NUL. */
static char *read_string(napi_env env, napi_value value, const char *what) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  char *text = malloc(length + 1);
  if (!text) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  size_t copied = 0;
  napi_get_value_string_utf8(env, value, text, length + 1, &copied);
  if (copied != length || strlen(text) != length) {
    free(text);
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return text;
}

static void run_mount_job(napi_env env, void *data) {
  (void)env;
  mount_job *job = data;
  int rc = job->kind == MOUNT_TMPFS ? mount("tmpfs", job->target, "tmpfs", 0, job->data)
                                    : umount2(job->target, 0);
  job->error = rc == 0 ? 0 : errno;
}

static void finish_mount_job(napi_env env, napi_status status, void *data) {
  mount_job *job = data;
  char message[256] = "";
  if (status != napi_ok)
    snprintf(message, sizeof message, "the call did not run (napi status %d)", (int)status);
  else if (job->error != 0)
    snprintf(message, sizeof message, "%s (errno %d)", strerror(job->error), job->error);
  napi_value result;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &result);
  napi_resolve_deferred(env, job->deferred, result);
  napi_delete_async_work(env, job->work);
  free(job->target);
  free(job->data);
  free(job);
}

static napi_value queue_mount_job(napi_env env, napi_callback_info info, enum job_kind kind) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t wanted = kind == MOUNT_TMPFS ? 2 : 1;
  if (argc < wanted)
    return throw_error(env, kind == MOUNT_TMPFS ? "mountTmpfs(target, options) takes two strings"
                                                : "unmount(target) takes a string");
  mount_job *job = calloc(1, sizeof *job);
  if (!job) return throw_error(env, "out of memory");
  job->kind = kind;
  job->target = read_string(env, argv[0], "the target must be a string without NUL");
  if (job->target && kind == MOUNT_TMPFS) {
    job->data = read_string(env, argv[1], "the options must be a string without NUL");
    if (job->data && job->data[0] == '\0') {
      free(job->data);
      job->data = NULL; /* no options: the kernel's defaults, as `mount -t tmpfs` without -o */
    } else if (!job->data) {
      free(job->target);
      job->target = NULL;
    }
  }
  if (!job->target) {
    free(job);
    return NULL;
  }
  napi_value promise, name;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, kind == MOUNT_TMPFS ? "mountTmpfs" : "unmount", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, run_mount_job, finish_mount_job, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

static napi_value mount_tmpfs(napi_env env, napi_callback_info info) {
  return queue_mount_job(env, info, MOUNT_TMPFS);
}

static napi_value unmount(napi_env env, napi_callback_info info) {
  return queue_mount_job(env, info, UNMOUNT);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"dropCleanPages", NULL, drop_clean_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trimMalloc", NULL, trim_malloc, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountTmpfs", NULL, mount_tmpfs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unmount", NULL, unmount, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
