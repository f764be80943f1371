"""Layer 1, optimizers: the AGM family as composable pieces (moments, transforms), its named members and their descriptors, and torch.optim twins. Imports nothing else of agmcore but its root."""
