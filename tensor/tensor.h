#pragma once
// Tensor: a shared handle to Storage plus shape, strides, dtype, device and an optional
// autograd node. Copying a Tensor copies the handle (like torch.Tensor); use clone() for data.
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "kernels/common.h"

namespace sakuga {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);
std::string shape_str(const Shape& s);  // "(2, 3, 4)"

struct Device {
  enum Kind : uint8_t { CPU, CUDA };
  Kind kind = CPU;
  int index = 0;

  static Device cpu() { return {CPU, 0}; }
  static Device cuda(int index = 0) { return {CUDA, index}; }
  // "cpu", "cuda", "cuda:N", or "auto" (CUDA when a device answers, else CPU).
  static Device parse(const std::string& s);
  bool is_cuda() const { return kind == CUDA; }
  bool is_cpu() const { return kind == CPU; }
  bool operator==(const Device& o) const { return kind == o.kind && (kind == CPU || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;
};

// Bytes on one device; returned to the (caching) allocator on destruction.
struct Storage {
  // Where the bytes come from: the device's caching allocator (or aligned host memory), the
  // pinned host allocator, or the copy-target pool that asynchronous uploads write into.
  enum class Kind : uint8_t { regular, pinned_host, copy_target };
  void* data = nullptr;
  size_t bytes = 0;
  Device device;
  Kind kind = Kind::regular;
  Storage(size_t bytes, Device device, Kind kind = Kind::regular);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct Node;  // autograd, see tensor/autograd.h

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape, strides;
  DType dtype = DType::f32;
  Device device;
  // autograd
  bool requires_grad = false;             // leaf flag (parameters, harness inputs)
  std::shared_ptr<TensorImpl> grad;       // accumulated dL/d(this) for leaves
  std::shared_ptr<Node> grad_fn;          // the op that produced this tensor, if recorded
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- creation -------------------------------------------------------------------------
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  // empty() with storage of a given kind (pinned_host: CPU only; copy_target: CUDA only).
  static Tensor empty_of(Storage::Kind kind, const Shape& shape, DType dtype, Device device);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
                     Device device = Device::cpu());
  static Tensor scalar(double value, DType dtype = DType::f32, Device device = Device::cpu());
  // Copies `values` (converted to dtype) into a new tensor of `shape`.
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor from_vector_i32(const std::vector<int32_t>& values, const Shape& shape,
                                Device device = Device::cpu());
  // Wraps (copies) raw host bytes of the given dtype.
  static Tensor from_bytes(const void* data, const Shape& shape, DType dtype,
                           Device device = Device::cpu());

  // --- metadata -------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return int64_t(impl().shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().device; }
  bool is_cuda() const { return impl().device.is_cuda(); }
  bool is_contiguous() const;
  bool is_pinned() const;  // a CPU tensor in page-locked memory (pin_memory())
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype()); }
  std::string str() const;  // "Tensor(f32, cpu, (2, 3))"

  // --- data -----------------------------------------------------------------------------
  // Pointer to the first element (offset applied). Typed access checks the dtype.
  void* raw() const;
  template <class T>
  T* data() const;
  // Host copy as floats / doubles / ints (any device, any float dtype).
  std::vector<float> to_vector() const;
  std::vector<double> to_vector_f64() const;
  std::vector<int32_t> to_vector_i32() const;
  double item() const;  // the single element as a double

  // --- conversion (not recorded by autograd unless stated) -------------------------------
  Tensor contiguous() const;            // self if already contiguous, else a recorded copy
  Tensor clone() const;                 // new storage, recorded by autograd
  Tensor to(Device device) const;       // recorded (gradient flows back to the source device)
  // With non_blocking and a pinned, contiguous CPU source going to CUDA: the upload runs on the
  // device's copy stream and the compute stream waits for it (an event), so the host does not
  // wait and the copy overlaps compute; the source storage is held until the copy completes.
  // Do not write into the source before then. Anything else is to(device). Recorded like it.
  Tensor to(Device device, bool non_blocking) const;
  Tensor to(DType dtype) const;         // recorded for float→float casts
  Tensor cpu() const { return to(Device::cpu()); }
  // A contiguous copy in page-locked host memory (from a caching pinned allocator) for
  // to(device, true); *this when already pinned or when no CUDA device answers (nothing to
  // overlap with). CPU tensors only. Not recorded by autograd (for input batches).
  Tensor pin_memory() const;
  // Overwrite this tensor's elements with src's (same shape; dtype/device converted). Not
  // recorded: for optimizers, loading weights and buffers.
  void copy_(const Tensor& src) const;
  void fill_(double value) const;
  void zero_() const { fill_(0.0); }

  // --- autograd -------------------------------------------------------------------------
  bool requires_grad() const;  // leaf flag or has a recorded producer
  const Tensor& set_requires_grad(bool on) const;
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  Tensor grad() const;         // undefined Tensor when none
  void set_grad(const Tensor& g) const;
  void zero_grad() const { impl().grad.reset(); }
  Tensor detach() const;       // same storage, no history, requires_grad false
  // dL/d(leaves) for this scalar (or with an explicit gradient of the same shape).
  void backward(const Tensor& grad_output = Tensor()) const;

  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Typed data pointer; T must match the dtype (bf16 ↔ sakuga::bf16).
template <class T>
struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<bf16> { static constexpr DType value = DType::bf16; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };

template <class T>
T* Tensor::data() const {
  SAKUGA_CHECK(dtype() == dtype_of<T>::value, "Tensor::data<", dtype_name(dtype_of<T>::value),
               ">() on a ", dtype_name(dtype()), " tensor");
  return static_cast<T*>(raw());
}

}  // namespace sakuga
