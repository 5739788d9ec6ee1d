"""What a chain lists: token-list JSON and the spam policy."""
