#include "tensor/tensor.h"

#include <cstdlib>
#include <sstream>

#include "kernels/copy.h"
#include "kernels/cpu_alloc.h"
#include "tensor/autograd.h"
#include "tensor/dispatch.h"

namespace sakuga {

// --- shapes --------------------------------------------------------------------------------

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << (s.size() == 1 ? ",)" : ")");
  return os.str();
}

// --- devices -------------------------------------------------------------------------------

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "auto") {
    const int dev = device::auto_cuda_device();  // a context is created, or the CPU is chosen (reason printed)
    return dev >= 0 ? cuda(dev) : cpu();
  }
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    int idx = 0;
    if (s.size() > 5) {
      char* end = nullptr;
      long v = std::strtol(s.c_str() + 5, &end, 10);
      SAKUGA_CHECK(end && *end == '\0' && v >= 0, "--device: bad device index in '", s, "'");
      idx = int(v);
    }
    int n = device::cuda_device_count();
    SAKUGA_CHECK(idx < n, "--device ", s, ": ",
                 n == 0 ? "no CUDA device answered (" + device::cuda_unavailable_reason() + ")"
                        : "only " + std::to_string(n) + " CUDA device(s)");
    return cuda(idx);
  }
  SAKUGA_FAIL("--device: expected auto, cpu, cuda or cuda:N, got '", s, "'");
}

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

// --- storage -------------------------------------------------------------------------------

Storage::Storage(size_t nbytes, Device dev, Kind k) : bytes(nbytes), device(dev), kind(k) {
  size_t alloc_bytes = nbytes ? nbytes : 1;
  SAKUGA_CHECK(kind != Kind::pinned_host || dev.is_cpu(), "pinned host storage on ", dev.str());
  SAKUGA_CHECK(kind != Kind::copy_target || dev.is_cuda(), "copy-target storage on ", dev.str());
  if (kind == Kind::pinned_host) {
    data = device::alloc_pinned(alloc_bytes);
  } else if (kind == Kind::copy_target) {
    data = device::alloc_copy_target(alloc_bytes, dev.index);
  } else if (dev.is_cpu()) {
    data = device::cpu_alloc(alloc_bytes);  // cached, 64-byte aligned (kernels/cpu_alloc.h)
  } else {
    data = device::alloc(alloc_bytes, dev.index);
  }
}

Storage::~Storage() {
  if (kind == Kind::pinned_host)
    device::free_pinned(data);
  else if (device.is_cpu())
    device::cpu_free(data, bytes ? bytes : 1);
  else
    device::free(data, device.index);  // regular and copy-target blocks alike
}

// --- creation ------------------------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  return empty_of(Storage::Kind::regular, shape, dtype, device);
}

Tensor Tensor::empty_of(Storage::Kind kind, const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) SAKUGA_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(shape_numel(shape)) * dtype_size(dtype), device, kind);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->device = device;
  return Tensor(impl);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}
Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}
Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor Tensor::from_bytes(const void* data, const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, Device::cpu());
  if (t.nbytes()) std::memcpy(t.raw(), data, t.nbytes());
  return device.is_cpu() ? t : t.to(device);
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape, DType dtype,
                           Device device) {
  SAKUGA_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
               " values for shape ", shape_str(shape));
  Tensor t = from_bytes(values.data(), shape, DType::f32, Device::cpu());
  if (dtype != DType::f32) t = t.to(dtype);
  return device.is_cpu() ? t : t.to(device);
}

Tensor Tensor::from_vector_i32(const std::vector<int32_t>& values, const Shape& shape, Device device) {
  SAKUGA_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector_i32: ", values.size(),
               " values for shape ", shape_str(shape));
  return from_bytes(values.data(), shape, DType::i32, device);
}

// --- metadata ------------------------------------------------------------------------------

TensorImpl& Tensor::impl() const {
  SAKUGA_CHECK(impl_, "use of an undefined Tensor");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const { return shape()[size_t(wrap_dim("size", d, dim()))]; }

bool Tensor::is_contiguous() const {
  const auto& sh = shape();
  const auto& st = strides();
  int64_t expect = 1;
  for (size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1) continue;
    if (st[i] != expect) return false;
    expect *= sh[i];
  }
  return true;
}

bool Tensor::is_pinned() const { return impl().storage->kind == Storage::Kind::pinned_host; }

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  return detail::concat("Tensor(", dtype_name(dtype()), ", ", device().str(), ", ", shape_str(shape()), ")");
}

void* Tensor::raw() const {
  return static_cast<char*>(impl().storage->data) + impl().offset * int64_t(dtype_size(dtype()));
}

std::vector<double> Tensor::to_vector_f64() const {
  Tensor h = contiguous().detach().to(Device::cpu()).to(DType::f64);
  const double* p = h.data<double>();
  return std::vector<double>(p, p + h.numel());
}

std::vector<float> Tensor::to_vector() const {
  Tensor h = contiguous().detach().to(Device::cpu()).to(DType::f32);
  const float* p = h.data<float>();
  return std::vector<float>(p, p + h.numel());
}

std::vector<int32_t> Tensor::to_vector_i32() const {
  Tensor h = contiguous().detach().to(Device::cpu()).to(DType::i32);
  const int32_t* p = h.data<int32_t>();
  return std::vector<int32_t>(p, p + h.numel());
}

double Tensor::item() const {
  SAKUGA_CHECK(numel() == 1, "item() on a tensor of shape ", shape_str(shape()));
  return to_vector_f64()[0];
}

// --- conversion ----------------------------------------------------------------------------

void strided_copy(const Tensor& src, const Tensor& dst) {
  SAKUGA_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype() && src.device() == dst.device(),
               "strided_copy: ", src.str(), " → ", dst.str());
  int nd = int(src.dim());
  SAKUGA_CHECK(nd <= kernels::kMaxDims, "tensors of rank > ", kernels::kMaxDims, " are not supported");
  if (src.numel() == 0) return;
  if (src.is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::strided_copy(src.raw(), src.strides().data(), dst.raw(), dst.strides().data(),
                                                 src.dtype(), src.shape().data(), nd, stream_of(src)));
  } else {
    kernels::cpu::strided_copy(src.raw(), src.strides().data(), dst.raw(), dst.strides().data(), src.dtype(),
                               src.shape().data(), nd);
  }
}

static bool is_cpu_pinned_contiguous(const Tensor& t) {
  return t.device().is_cpu() && t.is_pinned() && t.is_contiguous();
}

// Contiguous copy of `src` on the same device and dtype (no autograd).
static Tensor materialize(const Tensor& src) {
  Tensor out = Tensor::empty(src.shape(), src.dtype(), src.device());
  strided_copy(src, out);
  return out;
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = materialize(*this);
  return record("clone", out, {*this}, [](const Tensor& g, const Needs&) -> Grads { return {g}; });
}

Tensor Tensor::to(Device dev) const {
  if (dev == device()) return *this;
  Tensor src = is_contiguous() ? *this : materialize(*this);
  Tensor out = Tensor::empty(shape(), dtype(), dev);
  if (nbytes()) {
    if (dev.is_cuda() && src.device().is_cpu()) {
      device::copy_h2d(out.raw(), src.raw(), nbytes(), dev.index);
    } else if (dev.is_cpu()) {
      device::copy_d2h_sync(out.raw(), src.raw(), nbytes(), src.device().index);
    } else {
      // cuda:i → cuda:j through the host keeps this simple; multi-GPU is not a goal yet.
      Tensor h = src.to(Device::cpu());
      device::copy_h2d(out.raw(), h.raw(), nbytes(), dev.index);
    }
  }
  Device from = device();
  return record("to_device", out, {*this},
                [from](const Tensor& g, const Needs&) -> Grads { return {g.to(from)}; });
}

Tensor Tensor::to(Device dev, bool non_blocking) const {
  if (!non_blocking || !dev.is_cuda() || !is_cpu_pinned_contiguous(*this) || nbytes() == 0) return to(dev);
  Tensor out = Tensor::empty_of(Storage::Kind::copy_target, shape(), dtype(), dev);
  device::copy_h2d_async(out.raw(), raw(), nbytes(), dev.index, impl().storage);
  Device from = device();
  return record("to_device", out, {*this},
                [from](const Tensor& g, const Needs&) -> Grads { return {g.to(from)}; });
}

Tensor Tensor::pin_memory() const {
  SAKUGA_CHECK(device().is_cpu(), "pin_memory: only CPU tensors can be pinned, got ", str());
  if (is_pinned() || device::cuda_device_count() == 0) return *this;
  Tensor out = Tensor::empty_of(Storage::Kind::pinned_host, shape(), dtype(), Device::cpu());
  if (numel() == 0) return out;
  if (is_contiguous())
    std::memcpy(out.raw(), raw(), nbytes());
  else
    strided_copy(*this, out);
  return out;
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype()) return *this;
  Tensor src = is_contiguous() ? *this : materialize(*this);
  Tensor out = Tensor::empty(shape(), dt, device());
  if (numel()) {
    if (is_cuda()) {
      SAKUGA_CUDA_ONLY(kernels::cuda::cast(src.raw(), dtype(), out.raw(), dt, numel(), stream_of(src)));
    } else {
      kernels::cpu::cast(src.raw(), dtype(), out.raw(), dt, numel());
    }
  }
  if (!dtype_is_float(dt) || !dtype_is_float(dtype())) return out;
  DType from = dtype();
  return record("to_dtype", out, {*this},
                [from](const Tensor& g, const Needs&) -> Grads { return {g.to(from)}; });
}

void Tensor::copy_(const Tensor& src) const {
  SAKUGA_CHECK(src.shape() == shape(), "copy_: source shape ", shape_str(src.shape()),
               " does not match destination ", shape_str(shape()));
  NoGradGuard ng;
  Tensor s = src.detach().to(dtype()).to(device());
  if (nbytes() == 0 || (s.raw() == raw() && s.strides() == strides())) return;
  if (!is_contiguous() || !s.is_contiguous())
    strided_copy(s, *this);
  else if (is_cuda())
    device::copy_d2d(raw(), s.raw(), nbytes(), device().index);
  else
    std::memcpy(raw(), s.raw(), nbytes());
}

void Tensor::fill_(double value) const {
  SAKUGA_CHECK(is_contiguous(), "fill_: tensor must be contiguous");
  if (numel() == 0) return;
  if (is_cuda()) {
    SAKUGA_CUDA_ONLY(kernels::cuda::fill(raw(), dtype(), numel(), value, stream_of(*this)));
  } else {
    kernels::cpu::fill(raw(), dtype(), numel(), value);
  }
}

// --- autograd ------------------------------------------------------------------------------

bool Tensor::requires_grad() const { return impl().requires_grad || impl().grad_fn != nullptr; }

const Tensor& Tensor::set_requires_grad(bool on) const {
  SAKUGA_CHECK(!on || dtype_is_float(dtype()), "requires_grad on a ", dtype_name(dtype()), " tensor");
  SAKUGA_CHECK(is_leaf(), "set_requires_grad on a non-leaf tensor (use detach() first)");
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }

void Tensor::set_grad(const Tensor& g) const {
  if (!g.defined()) {
    impl().grad.reset();
    return;
  }
  SAKUGA_CHECK(g.shape() == shape(), "set_grad: gradient shape ", shape_str(g.shape()),
               " does not match ", shape_str(shape()));
  impl().grad = g.impl_ptr();
}

Tensor Tensor::detach() const {
  auto impl2 = std::make_shared<TensorImpl>();
  impl2->storage = impl().storage;
  impl2->offset = impl().offset;
  impl2->shape = impl().shape;
  impl2->strides = impl().strides;
  impl2->dtype = impl().dtype;
  impl2->device = impl().device;
  return Tensor(impl2);
}

void Tensor::backward(const Tensor& grad_output) const { run_backward(*this, grad_output); }

// --- argument checks (tensor/dispatch.h) ----------------------------------------------------

void check_defined(const char* op, const Tensor& t, const char* arg) {
  SAKUGA_CHECK(t.defined(), op, ": argument '", arg, "' is undefined");
}
void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  SAKUGA_CHECK(a.device() == b.device(), op, ": tensors on different devices (", a.device().str(),
               " and ", b.device().str(), ")");
}
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  SAKUGA_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch (", dtype_name(a.dtype()), " and ",
               dtype_name(b.dtype()), ")");
}
void check_float(const char* op, const Tensor& t, const char* arg) {
  SAKUGA_CHECK(dtype_is_float(t.dtype()), op, ": '", arg, "' must be a float tensor, got ",
               dtype_name(t.dtype()));
}
void check_dim(const char* op, const Tensor& t, int64_t dim, const char* arg) {
  SAKUGA_CHECK(t.dim() == dim, op, ": '", arg, "' must have ", dim, " dimensions, got shape ",
               shape_str(t.shape()));
}
void check_like(const char* op, const Tensor& ref, const Tensor& t, const char* arg) {
  check_defined(op, t, arg);
  check_same_device(op, ref, t);
  check_same_dtype(op, ref, t);
}
void check_constant(const char* op, const Tensor& t, const char* arg) {
  SAKUGA_CHECK(!(grad_enabled() && t.requires_grad()), op, ": the gradient with respect to '", arg,
               "' is not implemented (pass ", arg, ".detach())");
}
int64_t wrap_dim(const char* op, int64_t dim, int64_t ndim) {
  int64_t d = dim < 0 ? dim + ndim : dim;
  SAKUGA_CHECK(d >= 0 && d < std::max<int64_t>(ndim, 1), op, ": dim ", dim, " out of range for rank ", ndim);
  return d;
}

}  // namespace sakuga
