"""videojob.api"""
