// copyRange(inFd, inOffset, outFd, length) -> Promise<[copied, errno]>
//
// Copies `length` bytes at `inOffset` of inFd to outFd's current file offset (which advances, so
// the caller's sequential writes continue after it) with copy_file_range(2): the kernel moves the
// pages itself (or the file system clones them, or a network file system copies server-side)
// instead of copying every byte into user space and back. Runs on the libuv thread pool so the
// event loop never waits on it. It stops at the first error and reports how far it got; the
// caller copies the rest in user space (EXDEV across file systems, EINVAL, ENOSYS, ...).
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
  int in_fd;
  int out_fd;
  int64_t in_offset;
  int64_t length;
  int64_t copied;
  int error;
  napi_async_work work;
  napi_deferred deferred;
} CopyJob;

// Bounded per call so one call never asks for more than the kernel's own per-call maximum.
static const size_t MAX_PER_CALL = (size_t)1 << 30;

static void execute(napi_env env, void* data) {
  (void)env;
  CopyJob* job = data;
  loff_t in_offset = (loff_t)job->in_offset;
  while (job->copied < job->length) {
    size_t want = (size_t)(job->length - job->copied);
    if (want > MAX_PER_CALL) want = MAX_PER_CALL;
    ssize_t n = copy_file_range(job->in_fd, &in_offset, job->out_fd, NULL, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      job->error = errno;
      return;
    }
    if (n == 0) return;  // the source ended early: the caller's read reports it
    job->copied += n;
  }
}

static void complete(napi_env env, napi_status status, void* data) {
  CopyJob* job = data;
  napi_value result, copied, error;
  if (status == napi_ok && napi_create_array_with_length(env, 2, &result) == napi_ok &&
      napi_create_int64(env, job->copied, &copied) == napi_ok && napi_create_int32(env, job->error, &error) == napi_ok &&
      napi_set_element(env, result, 0, copied) == napi_ok && napi_set_element(env, result, 1, error) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message, err;
    napi_create_string_utf8(env, "kernel copy did not complete", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &err);
    napi_reject_deferred(env, job->deferred, err);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value copy_range(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], promise, name;
  int32_t in_fd, out_fd;
  int64_t in_offset, length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 ||
      napi_get_value_int32(env, argv[0], &in_fd) != napi_ok || napi_get_value_int64(env, argv[1], &in_offset) != napi_ok ||
      napi_get_value_int32(env, argv[2], &out_fd) != napi_ok || napi_get_value_int64(env, argv[3], &length) != napi_ok ||
      in_fd < 0 || out_fd < 0 || in_offset < 0 || length < 0) {
    napi_throw_type_error(env, NULL, "copyRange(inFd, inOffset, outFd, length) takes four non-negative integers");
    return NULL;
  }
  CopyJob* job = calloc(1, sizeof(CopyJob));
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  job->in_fd = in_fd;
  job->out_fd = out_fd;
  job->in_offset = in_offset;
  job->length = length;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "deid-agent:kernel-copy", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free(job);
    napi_throw_error(env, NULL, "cannot queue the kernel copy");
    return NULL;
  }
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "copyRange", NAPI_AUTO_LENGTH, copy_range, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "copyRange", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}
