"""Prints a function @chain applying N dsv4.hadamard ops in a row (N from argv)."""
import sys

n = int(sys.argv[1])
print("func.func @chain(%kv: tensor<?x128xf32>, %items: tensor<?x2xi32>) -> tensor<?x128xf32> {")
value = "%kv"
for i in range(n):
    print(f"  %h{i} = dsv4.hadamard {value}[%items] {{scale = 0.0883883461 : f32}}"
          " : tensor<?x128xf32>, tensor<?x2xi32>")
    value = f"%h{i}"
print(f"  return {value} : tensor<?x128xf32>")
print("}")
