print("coppice")
