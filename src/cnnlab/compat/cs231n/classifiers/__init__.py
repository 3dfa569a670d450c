"""CS231n ``classifiers`` package: ``from cs231n.classifiers.cnn import ThreeLayerConvNet``."""
