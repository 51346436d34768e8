// The device runtime of a build without CUDA: no device ever answers.
#ifndef SAKUGA_WITH_CUDA
#include <atomic>
#include <cstdio>

#include "kernels/device.h"

namespace sakuga::device {

namespace {
std::atomic<bool> g_deterministic{true};
std::atomic<Precision> g_precision{Precision::tf32};
}  // namespace

bool cuda_built() { return false; }
int cuda_device_count() { return 0; }
std::string cuda_unavailable_reason() { return "sakuga was built without CUDA"; }
std::vector<DeviceInfo> devices() { return {}; }
Versions versions() { return {}; }

[[noreturn]] static void no_cuda() { SAKUGA_FAIL("CUDA requested, but sakuga was built without CUDA"); }
void set_device(int) { no_cuda(); }
Stream stream(int) { no_cuda(); }
void synchronize(int) {}
void* alloc(size_t, int) { no_cuda(); }
void free(void*, int) {}
MemStats mem_stats(int) { return {}; }
void reset_peak(int) {}
void empty_cache() {}
void copy_h2d(void*, const void*, size_t, int) { no_cuda(); }
void copy_d2h_sync(void*, const void*, size_t, int) { no_cuda(); }
void copy_d2d(void*, const void*, size_t, int) { no_cuda(); }
void memset_zero(void*, size_t, int) { no_cuda(); }
int auto_cuda_device() { return -1; }

void* alloc_pinned(size_t) { no_cuda(); }
void free_pinned(void*) {}
bool is_pinned(const void*) { return false; }
MemStats pinned_stats() { return {}; }
Stream copy_stream(int) { no_cuda(); }
void* alloc_copy_target(size_t, int) { no_cuda(); }
void copy_h2d_async(void*, const void*, size_t, int, std::shared_ptr<const void>) { no_cuda(); }
size_t copies_in_flight(int) { return 0; }
int32_t* deferred_error_flag(int, DeferredError) { no_cuda(); }
void raise_deferred_errors(int) {}

void set_deterministic(bool on) { g_deterministic = on; }
bool deterministic() { return g_deterministic; }
void set_precision(Precision p) { g_precision = p; }
Precision precision() { return g_precision; }

}  // namespace sakuga::device
#endif
