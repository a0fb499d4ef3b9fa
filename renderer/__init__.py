"""videojob.renderer"""
