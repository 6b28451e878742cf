module idxstream/spark_script

go 1.26.0
