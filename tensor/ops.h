#pragma once
// The functional API in one include.
#include "tensor/autograd.h"
#include "tensor/ops/conv.h"
#include "tensor/ops/elementwise.h"
#include "tensor/ops/loss.h"
#include "tensor/ops/matmul.h"
#include "tensor/ops/norm.h"
#include "tensor/ops/pool.h"
#include "tensor/ops/reduce.h"
#include "tensor/ops/shape.h"
#include "tensor/ops/view.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
