#pragma once
// Host scratch buffers that live across calls, one per (thread, element type, slot): the CPU
// kernels reuse them instead of page-faulting a fresh multi-MiB buffer on every call. A kernel
// that needs several buffers at once takes them from different slots; contents are garbage.
#include <cstddef>
#include <vector>

namespace sakuga::kernels::cpu {

template <class T, int Slot = 0>
T* scratch(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) {
    buf.clear();
    buf.shrink_to_fit();
    buf.resize(n);
  }
  return buf.data();
}

}  // namespace sakuga::kernels::cpu
