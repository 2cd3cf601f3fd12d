"""Transaction readers and writers.

    claim837.iter_claims          837P segments -> one `ParsedClaim` at a time
    claim837.read_transactions    837P segments -> one `Transaction837` at a time
    serialize837.transaction_segments / transaction_elements   Transaction837 -> segments
"""
