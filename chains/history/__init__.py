"""History: what a balance was at a block or a time, and the events that moved it.

`base` holds the family contract (`HistorySource`) and its values, `timelines` the cached,
per-chain service every resolver uses (head, block for a time, balances at a block, event
timelines), `blocks` the search for the block at an instant.
"""
