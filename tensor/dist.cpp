// Tensor helpers over the job's communicators (tensor/dist.h).
#include "tensor/dist.h"

#include <atomic>
#include <cstring>

#include "kernels/device.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"

namespace sakuga::dist {

namespace {

std::atomic<Communicator*> g_sync_bn{nullptr};

int device_of(const Tensor& t) { return t.is_cuda() ? t.device().index : kHost; }

void check_reducible(const Tensor& t, const char* op) {
  SAKUGA_CHECK(t.defined(), op, ": undefined tensor");
  SAKUGA_CHECK(t.dtype() == DType::f32, op, ": expected f32 tensors, got ", dtype_name(t.dtype()));
  SAKUGA_CHECK(t.is_contiguous(), op, ": expected contiguous tensors");
}

// Copies between a tensor and a place in a flat buffer on the same device.
void copy_bytes(void* dst, const void* src, size_t bytes, int device) {
  if (bytes == 0) return;
  if (device == kHost)
    std::memcpy(dst, src, bytes);
  else
    device::copy_d2d(dst, src, bytes, device);
}

// Runs `reduce(flat, n)` on buckets of the tensors, then writes the results back (`scale` times).
void bucketed(Communicator& comm, const std::vector<Tensor>& ts, int64_t bucket_bytes, float scale, const char* op) {
  if (ts.empty()) return;
  const Device dev = ts[0].device();
  for (const Tensor& t : ts) {
    check_reducible(t, op);
    SAKUGA_CHECK(t.device() == dev, op, ": tensors on ", dev.str(), " and ", t.device().str());
  }
  const int d = device_of(ts[0]);
  const int64_t cap = std::max<int64_t>(1, bucket_bytes / int64_t(sizeof(float)));
  size_t i = 0;
  while (i < ts.size()) {
    // One tensor larger than a bucket is reduced in place on its own.
    if (ts[i].numel() >= cap) {
      comm.all_reduce_sum(static_cast<float*>(ts[i].raw()), ts[i].numel(), d);
      if (scale != 1.0f) {
        NoGradGuard ng;
        ts[i].copy_(ops::mul(ts[i].detach(), double(scale)));
      }
      ++i;
      continue;
    }
    size_t j = i;
    int64_t n = 0;
    while (j < ts.size() && ts[j].numel() < cap && n + ts[j].numel() <= cap) n += ts[j++].numel();
    Tensor flat = Tensor::empty({n}, DType::f32, dev);
    auto* base = static_cast<float*>(flat.raw());
    int64_t off = 0;
    for (size_t k = i; k < j; ++k) {
      copy_bytes(base + off, ts[k].raw(), ts[k].nbytes(), d);
      off += ts[k].numel();
    }
    comm.all_reduce_sum(base, n, d);
    if (scale != 1.0f) {
      NoGradGuard ng;
      flat = ops::mul(flat, double(scale));
      base = static_cast<float*>(flat.raw());
    }
    off = 0;
    for (size_t k = i; k < j; ++k) {
      copy_bytes(ts[k].raw(), base + off, ts[k].nbytes(), d);
      off += ts[k].numel();
    }
    i = j;
  }
}

}  // namespace

Communicator& for_device(Device device, const std::string& backend) {
  SAKUGA_CHECK(backend == "auto" || backend == "nccl" || backend == "mpi",
               "config train.dist_backend: expected auto, nccl or mpi, got '", backend, "'");
  if (backend == "nccl") {
    SAKUGA_CHECK(device.is_cuda(), "config train.dist_backend nccl: the run is on ", device.str(),
                 "; NCCL needs a CUDA device");
    return nccl(device.index);
  }
  if (backend == "auto" && device.is_cuda() && nccl_built() && world().world() > 1) return nccl(device.index);
  return world();
}

void all_reduce_sum(Communicator& comm, const std::vector<Tensor>& ts, int64_t bucket_bytes) {
  if (comm.world() == 1 && comm.backend() != "nccl") return;
  bucketed(comm, ts, bucket_bytes, 1.0f, "all_reduce_sum");
}

void all_reduce_mean(Communicator& comm, const std::vector<Tensor>& ts, int64_t bucket_bytes) {
  if (comm.world() == 1 && comm.backend() != "nccl") return;
  bucketed(comm, ts, bucket_bytes, 1.0f / float(comm.world()), "all_reduce_mean");
}

void all_reduce_sum(Communicator& comm, std::vector<double>& values) {
  if (comm.world() == 1 || values.empty()) return;
  std::vector<double> total(values.size(), 0.0), part(values.size());
  for (int r = 0; r < comm.world(); ++r) {
    part = r == comm.rank() ? values : std::vector<double>(values.size(), 0.0);
    comm.broadcast(part.data(), int64_t(part.size() * sizeof(double)), r, kHost);
    for (size_t i = 0; i < part.size(); ++i) total[i] += part[i];
  }
  values = std::move(total);
}

void broadcast(Communicator& comm, const std::vector<Tensor>& ts, int root) {
  if (comm.world() == 1 && comm.backend() != "nccl") return;
  for (const Tensor& t : ts) {
    SAKUGA_CHECK(t.defined() && t.is_contiguous(), "broadcast: expected defined, contiguous tensors");
    comm.broadcast(t.raw(), int64_t(t.nbytes()), root, device_of(t));
  }
}

GradBuckets::GradBuckets(Communicator& comm, std::vector<Tensor> params, int64_t bucket_bytes)
    : comm_(comm), params_(std::move(params)) {
  const int64_t cap = std::max<int64_t>(1, bucket_bytes / int64_t(sizeof(float)));
  bucket_of_.resize(params_.size());
  for (size_t k = params_.size(); k-- > 0;) {
    const Tensor& p = params_[k];
    check_reducible(p, "GradBuckets");
    index_[&p.impl()] = k;
    if (buckets_.empty() || (buckets_.back().numel > 0 && buckets_.back().numel + p.numel() > cap)) buckets_.emplace_back();
    Bucket& b = buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    b.params.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
  }
}

void GradBuckets::run(const std::function<void()>& backward) {
  has_grad_.assign(params_.size(), false);
  for (Bucket& b : buckets_) {
    b.ready = 0;
    b.launched = false;
    if (!b.flat.defined()) b.flat = Tensor::zeros({b.numel}, DType::f32, params_[b.params[0]].device());
  }
  {
    GradReadyScope scope([this](const Tensor& leaf) { ready(leaf); });
    backward();
  }
  // Buckets with parameters this backward did not reach (frozen, unused): summed now, with zeros
  // in their place on every rank (every rank runs the same graph).
  for (Bucket& b : buckets_)
    if (!b.launched) launch(b);
  const int d = device_of(params_[0]);
  comm_.wait(d);
  const double inv = 1.0 / double(comm_.world());
  NoGradGuard ng;
  for (Bucket& b : buckets_) {
    Tensor mean = ops::mul(b.flat, inv);
    auto* base = static_cast<float*>(mean.raw());
    for (size_t j = 0; j < b.params.size(); ++j) {
      const size_t k = b.params[j];
      if (!has_grad_[k]) continue;
      Tensor g = params_[k].grad();
      copy_bytes(g.raw(), base + b.offsets[j], g.nbytes(), d);
    }
  }
}

void GradBuckets::ready(const Tensor& leaf) {
  auto it = index_.find(&leaf.impl());
  if (it == index_.end()) return;  // another optimiser's parameter
  const size_t k = it->second;
  if (has_grad_[k]) return;
  Tensor g = params_[k].grad();
  if (!g.defined()) return;
  SAKUGA_CHECK(g.is_contiguous() && g.dtype() == DType::f32, "GradBuckets: expected contiguous f32 gradients");
  has_grad_[k] = true;
  Bucket& b = buckets_[bucket_of_[k]];
  size_t j = 0;
  while (b.params[j] != k) ++j;
  copy_bytes(static_cast<float*>(b.flat.raw()) + b.offsets[j], g.raw(), g.nbytes(), device_of(g));
  if (++b.ready == b.params.size()) launch(b);
}

void GradBuckets::launch(Bucket& b) {
  const int d = device_of(b.flat);
  // Parameters without a gradient this step contribute zeros.
  for (size_t j = 0; j < b.params.size(); ++j)
    if (!has_grad_[b.params[j]]) {
      const Tensor& p = params_[b.params[j]];
      if (d == kHost)
        std::memset(static_cast<float*>(b.flat.raw()) + b.offsets[j], 0, p.nbytes());
      else
        device::memset_zero(static_cast<float*>(b.flat.raw()) + b.offsets[j], p.nbytes(), d);
    }
  comm_.all_reduce_sum_async(static_cast<float*>(b.flat.raw()), b.numel, d);
  b.launched = true;
}

void set_sync_batch_norm(Communicator* comm) { g_sync_bn = comm; }
Communicator* sync_batch_norm() { return g_sync_bn; }

}  // namespace sakuga::dist

namespace sakuga::ops {

Tensor all_reduce_sum(const Tensor& x_in, dist::Communicator& comm) {
  SAKUGA_CHECK(x_in.defined() && x_in.dtype() == DType::f32, "all_reduce_sum: expected an f32 tensor");
  Tensor y = x_in.detach().contiguous().clone();
  dist::all_reduce_sum(comm, {y});
  dist::Communicator* c = &comm;
  return record("all_reduce_sum", y, {x_in}, [c](const Tensor& gy, const Needs&) -> Grads {
    Tensor g = gy.contiguous().clone();
    dist::all_reduce_sum(*c, {g});
    return {g};
  });
}

}  // namespace sakuga::ops
