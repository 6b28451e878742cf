module idxstream/producer

go 1.26.0
