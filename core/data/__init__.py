"""Datasets: the IDX reader, download, the training images in memory, preprocessing of drawings,
augmentation and the personal set."""
