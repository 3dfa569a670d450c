"""Datasets, preprocessing, batching and augmentation."""
