"""What contact-center systems integrate with: primary interactions and their
lifecycle, and webhooks telling them what happened (PRODUCT.md §2, §6)."""
