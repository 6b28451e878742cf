module idxstream/envconf

go 1.26.0
