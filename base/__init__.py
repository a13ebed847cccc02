"""What every interface shares (API base, web base, input, broker fix)."""
