# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Seed 003: the Keras practical on cnnlab (MiniAlexNet on CIFAR-10)
#
# Sections covered, in the seed's order:
#
# 1. Convolutional layers: the dummy 10 x 10 x 3 image and how filters, kernel size and stride
#    set the output shape (the convolution demo)
# 2. The CIFAR10 dataset: the last 10,000 training images as validation, shapes and data
#    types, examples
# 3. A ConvNet classifier: MiniAlexNet's convolutional part, then the dense part; its summary
#    and its graph
# 4. Training and validating the model, test performance (10 epochs of Adam, batch 128)
# 5. Classifying examples, and the question: right / wrong predictions with high / low
#    confidence, and their losses
# 6. Your tasks: (1) a fully convolutional network, (2) batch normalisation, (3) residual
#    blocks, (4) the filters of the convolutional layers
#
# The practical trains with `model.fit`; cnnlab's run is the recipe `seed003-batchnorm`
# (`cnnlab recipe run seed003-batchnorm`), which trains the practical's MiniAlexNet without and
# with batch norm and draws the figures the questions need.

# %%
import dataclasses
import json

import numpy as np
from matplotlib.figure import Figure
from nbsetting import DATA_SOURCE, SMALL, compare, out_dir, pick, show, show_file

from cnnlab import experiment, nn
from cnnlab.data import CLASSES, load_cifar10
from cnnlab.models import AllConvNet, MiniAlexNet, ResNet
from cnnlab.recipes import run_recipe
from cnnlab.recipes.seed003 import practical_config
from cnnlab.viz.dataset import plot_dataset_samples
from cnnlab.viz.graph import model_graph, plot_model_graph

OUT = out_dir("seed003")

# %% [markdown]
# ## 1. Convolutional layers
#
# A random 10 x 10 colour image through `nn.Conv2d` with "valid" padding (no padding) for a
# few settings of the practical's sliders. The output side is (10 - kernel) // stride + 1 and
# the output depth is the number of filters.

# %%
rng = np.random.default_rng(0)
dummy_input = rng.uniform(size=(1, 3, 10, 10))
settings = [(3, 2, 1), (3, 3, 2), (5, 4, 1), (1, 10, 1)]
fig = Figure(figsize=(3 * (len(settings) + 1), 3))
axes = fig.subplots(1, len(settings) + 1)
axes[0].imshow(dummy_input[0].transpose(1, 2, 0))
axes[0].set_title("input (10, 10, 3)")
for ax, (filters, kernel_size, stride) in zip(axes[1:], settings, strict=True):
    conv_layer = nn.Conv2d(3, filters, kernel_size, stride=stride, padding=0, rng=0)
    convoluted = conv_layer(dummy_input)
    expected = (10 - kernel_size) // stride + 1
    print(f"filters {filters}, kernel {kernel_size}, stride {stride}: {convoluted.shape[1:]}")
    assert convoluted.shape[1:] == (filters, expected, expected)
    ax.imshow(convoluted[0, 0], cmap="gray")
    ax.set_title(f"f={filters} k={kernel_size} s={stride}: first map")
for ax in axes:
    ax.set_axis_off()
show(fig)

# %% [markdown]
# ## 2. The CIFAR10 dataset
#
# As in the practical, the last 10,000 of the 50,000 training images validate. The loader
# gives raw pixels (uint8, N x 32 x 32 x 3, as Keras's `cifar10.load_data`) before any
# normalisation. The small setting reads the bundled sample.

# %%
split = pick((40000, 10000, 10000), (400, 100, 100))
train_images, train_labels, validation_images, validation_labels, test_images, test_labels = (
    load_cifar10(*split, layout="NHWC", source=DATA_SOURCE, dtype=np.uint8)
)
for name, array in (
    ("train_images", train_images),
    ("train_labels", train_labels),
    ("validation_images", validation_images),
    ("validation_labels", validation_labels),
):
    print(f"{name}.shape = {array.shape}, data-type = {array.dtype}")
show(plot_dataset_samples(train_images, train_labels, CLASSES, n=25, seed=0))

# %% [markdown]
# ## 3. A ConvNet classifier
#
# Five 3 x 3 convolutions with ReLU ("same" padding), 3 x 3 max pools after the first, second
# and fifth, then dense 1024 - dropout 0.5 - dense 1024 - dense 10. How many parameters has
# the convolutional part? The summary answers; the dense part adds the rest.

# %%
model = MiniAlexNet(seed=0)
print(model.summary())
conv_params = sum(v.size for k, v in model.params.items() if k.startswith("conv"))
dense_params = sum(v.size for k, v in model.params.items() if not k.startswith("conv"))
print(f"convolutional part: {conv_params:,} parameters; dense part: {dense_params:,}")

# %% [markdown]
# The flow diagram (Keras's `plot_model`):

# %%
show(plot_model_graph(model_graph(model), title="MiniAlexNet"))

# %% [markdown]
# ## 4. Training, validation and test (and task 2: batch normalisation)
#
# The practical's run: 40,000 training images, Adam at 1e-3, batch 128, 10 epochs. cnnlab
# normalises each channel with the training statistics (the practical feeds raw pixels). The
# recipe trains it twice from the same seed: as given, and with batch norm after each
# convolution (task 2). About 25 minutes on 2 cores; the small setting trains a narrow net
# for one epoch on the sample.

# %%
record = run_recipe("seed003-batchnorm", OUT / "alexnet", tiny=SMALL)
plain, batchnorm = record["results"]["plain"], record["results"]["batchnorm"]
print(f"{record['seconds']:.0f} s")
compare(
    [
        (
            "training accuracy (last epoch)",
            "about 0.80",
            plain["train_acc"],
            batchnorm["train_acc"],
        ),
        ("validation accuracy (best epoch)", None, plain["val_acc"], batchnorm["val_acc"]),
        ("test accuracy", "about 0.67", plain["test_acc"], batchnorm["test_acc"]),
    ],
    header=("", "seed (Keras)", "cnnlab MiniAlexNet", "cnnlab + batch norm"),
)
show_file(OUT / "alexnet" / "comparison.png")

# %% [markdown]
# Why is the test accuracy so far below the training accuracy? The network has two million
# parameters for 40,000 images and sees them ten times: it starts to fit the training images'
# particulars (overfitting); dropout slows this, and batch norm's noise and better conditioning
# usually narrow the gap further (the table above measures it).
#
# ## 5. Classifying examples, and the confidence question
#
# For every test image, the predicted class and its probability. The four cases the question
# asks for are picked over the whole test set (the most and least confident right and wrong
# predictions), each shown with its loss -log p(true class).

# %%
show_file(OUT / "alexnet" / "plain" / "confidence_cases.png")
rows = []
for case, images in plain["confidence_cases"].items():
    rows.append(
        (
            case,
            np.mean([image["probability"] for image in images]),
            np.mean([image["loss"] for image in images]),
        )
    )
compare(rows, header=("case", "mean confidence", "mean loss"))
print(f"mean loss of right predictions {plain['mean_loss_right']:.3f}")
print(f"mean loss of wrong predictions {plain['mean_loss_wrong']:.3f}")

# %% [markdown]
# The loss is -log of the probability given to the true class: near 0 for a confident right
# prediction, a little below log 2 to 2 for unconfident ones (right or wrong), and largest for
# confident mistakes, where the true class got almost nothing: they dominate the mean loss of
# the wrong predictions.
#
# ## 6. Your tasks
#
# ### Task 1: a fully convolutional network
#
# No pooling and no dense layers: strided convolutions shrink the image and a global average
# pool feeds the classes (cnnlab's `AllConvNet`), trained in the practical's setting for 4
# epochs (about half an hour on 2 cores) and compared with MiniAlexNet after the same 4 epochs.

# %%
EPOCHS = pick(4, 1)
allconv = AllConvNet(seed=0)
print(allconv.summary())
cfg = dataclasses.replace(
    practical_config(False, tiny=SMALL),
    model="allconv",
    model_kwargs=pick({}, {"widths": [4, 8]}),
    epochs=EPOCHS,
)
# run the notebook again and it continues (or reuses) this run from its checkpoint
resume = (OUT / "allconv" / "checkpoint.npz").exists()
experiment.train(cfg, OUT / "allconv", resume=resume, verbose=not SMALL, progress_bar=False)
histories = {
    name: json.loads((OUT / folder / "history.json").read_text())
    for name, folder in (("MiniAlexNet", "alexnet/plain"), ("all-convolutional", "allconv"))
}
compare(
    [
        (name, sum(v.size for v in net.params.values()), histories[name]["val_acc_history"][EPOCHS])
        for name, net in (("MiniAlexNet", model), ("all-convolutional", allconv))
    ],
    header=("network", "parameters", f"validation accuracy after {EPOCHS} epochs"),
)

# %% [markdown]
# ### Task 3: residual blocks
#
# A reusable block: two 3 x 3 conv - batch norm layers whose output is added to the block's
# input (`nn.Residual`), then ReLU. cnnlab's `ResNet` stacks them; its graph shows each block
# as a fork and a join.

# %%
block = nn.Residual(
    nn.Sequential(
        nn.Conv2d(16, 16, 3, padding=1, bias=False, rng=0),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1, bias=False, rng=1),
        nn.BatchNorm2d(16),
    )
)
x = rng.standard_normal((2, 16, 8, 8)).astype(np.float32)
print("residual block:", x.shape, "->", block(x).shape)
resnet = ResNet(seed=0)
show(plot_model_graph(model_graph(resnet), title="ResNet"))

# %% [markdown]
# ### Task 4: the filters of the convolutional layers
#
# conv1's 48 filters as colour pictures (3 x 3 x RGB), and conv2's filters channel by channel.

# %%
show_file(OUT / "alexnet" / "plain" / "filters_conv1.png")
show_file(OUT / "alexnet" / "plain" / "filters_conv2.png")
