"""What a trained model is asked afterwards: scores, confusion, saliency, filters, maps, robustness."""
