import os
import sys

# tests/fake.py is imported as `fake`.
sys.path.insert(0, os.path.dirname(__file__))
