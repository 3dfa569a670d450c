"""cnnlab.compat.cs231n."""
