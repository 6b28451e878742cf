module idxstream/trade

go 1.26.0
