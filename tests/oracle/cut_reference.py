"""CUT / Hneg_SRC reference pieces shared by the scenimefy oracle tests, written out from their
definitions (taesungp/contrastive-unpaired-translation models/networks.py and patchnce.py;
jcy132/Hneg_SRC models/hDCE.py and SRC.py):

  modules  ResnetGenerator with anti-aliased Downsample / Upsample, NLayerDiscriminator, PatchSampleF
  losses   patch_nce (CUT's PatchNCELoss), hdce_weights / hdce (HDCE, decoupled gradient), src (SRC)
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def get_filter(k):
    a = {3: [1., 2., 1.], 4: [1., 3., 3., 1.]}[k]
    a = torch.tensor(a)
    f = a[:, None] * a[None, :]
    return f / f.sum()


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.register_buffer('filt', get_filter(3)[None, None].repeat(channels, 1, 1, 1))
        self.pad = nn.ReflectionPad2d(1)

    def forward(self, x):
        return F.conv2d(self.pad(x), self.filt, stride=2, groups=x.shape[1])


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.register_buffer('filt', (get_filter(4) * 4)[None, None].repeat(channels, 1, 1, 1))
        self.pad = nn.ReplicationPad2d(1)

    def forward(self, x):
        y = F.conv_transpose2d(self.pad(x), self.filt, stride=2, padding=2, groups=x.shape[1])[:, :, 1:, 1:]
        return y[:, :, :-1, :-1]


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim),
                                        nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True),
                                        nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, ngf, blocks=9):
        super().__init__()
        m = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, bias=True), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        for i in range(2):
            mult = 2 ** i
            m += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, padding=1, bias=True), nn.InstanceNorm2d(ngf * mult * 2),
                  nn.ReLU(True), Downsample(ngf * mult * 2)]
        m += [ResnetBlock(ngf * 4) for _ in range(blocks)]
        for i in range(2):
            mult = 2 ** (2 - i)
            m += [Upsample(ngf * mult), nn.Conv2d(ngf * mult, ngf * mult // 2, 3, padding=1, bias=True),
                  nn.InstanceNorm2d(ngf * mult // 2), nn.ReLU(True)]
        m += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*m)

    def forward(self, x, layers=None):
        if layers is None:
            return self.model(x)
        feats, h = [], x
        for i, layer in enumerate(self.model):
            h = layer(h)
            if i in layers:
                feats.append(h)
            if i == layers[-1]:
                return feats


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf, n_layers=3):
        super().__init__()
        seq = [nn.Conv2d(input_nc, ndf, 4, 1, 1), nn.LeakyReLU(0.2, True), Downsample(ndf)]
        nf = 1
        for n in range(1, n_layers):
            prev, nf = nf, min(2 ** n, 8)
            seq += [nn.Conv2d(ndf * prev, ndf * nf, 4, 1, 1, bias=True), nn.InstanceNorm2d(ndf * nf),
                    nn.LeakyReLU(0.2, True), Downsample(ndf * nf)]
        prev, nf = nf, min(2 ** n_layers, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * nf, 4, 1, 1, bias=True), nn.InstanceNorm2d(ndf * nf), nn.LeakyReLU(0.2, True)]
        seq += [nn.Conv2d(ndf * nf, 1, 4, 1, 1)]
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


class PatchSampleF(nn.Module):
    def __init__(self, widths, nc):
        super().__init__()
        for i, c in enumerate(widths):
            setattr(self, 'mlp_%d' % i, nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc)))
        self.n = len(widths)

    def forward(self, feats, patch_ids):
        out = []
        for i, f in enumerate(feats):
            r = f.permute(0, 2, 3, 1).flatten(1, 2)
            x = r[:, patch_ids[i], :].flatten(0, 1)
            x = getattr(self, 'mlp_%d' % i)(x)
            # CUT: x / (x.pow(2).sum(1).pow(0.5) + 1e-7); the clamp (as sakuga) keeps an all-zero row's
            # gradient finite where CUT's is NaN, and changes no other value.
            out.append(x / (x.pow(2).sum(1, keepdim=True).clamp_min(1e-30).pow(0.5) + 1e-7))
        return out


def masked_neg(q, k, w=None):
    P = q.shape[1]
    neg = torch.bmm(q, k.transpose(2, 1))
    if w is not None:
        neg = neg * w
    eye = torch.eye(P, dtype=torch.bool)[None]
    return neg.masked_fill(eye, -10.0).reshape(-1, P)


def patch_nce(q, k, tau):
    B, P, C = q.shape
    l_pos = (q * k).sum(-1).reshape(-1, 1)
    out = torch.cat([l_pos, masked_neg(q, k)], 1) / tau
    return F.cross_entropy(out, torch.zeros(B * P, dtype=torch.long))


def hdce_weights(k, gamma):
    P = k.shape[1]
    a = torch.bmm(k, k.transpose(2, 1)).masked_fill(torch.eye(P, dtype=torch.bool)[None], -10.0)
    w = torch.softmax(a / gamma, dim=-1)
    return w / w.max(dim=-1, keepdim=True)[0]


def hdce(q, k, w, tau):
    B, P, C = q.shape
    l_pos = (q * k).sum(-1).reshape(-1, 1)
    l_neg = masked_neg(q, k, w)
    v = torch.logsumexp((l_neg - l_pos) / tau, dim=1)
    ce = F.cross_entropy(torch.cat([l_pos, l_neg], 1) / tau, torch.zeros(B * P, dtype=torch.long))
    return torch.exp(v - v.detach()).mean() - 1 + ce.detach()


def src(q, k):
    """Hneg_SRC's SRC_Loss per image (its batch_dim_for_bmm = 1 merges the batch; here per image,
    summed over the P×P entries, mean over images), softmax along dim 1 as the reference."""
    k = k.detach()
    vals = []
    for b in range(q.shape[0]):
        sq = torch.softmax(q[b] @ q[b].t(), dim=0)
        sk = torch.softmax(k[b] @ k[b].t(), dim=0)
        m = 0.5 * (sq + sk)
        kl = lambda p: (p * (torch.log(p) - torch.log(m))).sum()  # KLDivLoss(log m, log p, log_target)
        vals.append(0.5 * (kl(sq) + kl(sk)))
    return torch.stack(vals).mean()
